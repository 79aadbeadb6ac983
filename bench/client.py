"""A small HTTP load generator: `python -m bench.client get|post|door|rush ...`.

Threads on keep-alive connections (http.client). It prints the same `BENCH
{json}` line as bench/get.lua and bench/burst.lua. For pages, the burst and
the door it stands in for wrk where wrk is not installed: slower than wrk, its
figures are lower bounds for fast pages, which the report says. The opening
rush always uses it (bench/rush.py says why).
"""

import http.client
import itertools
import json
import re
import sys
import threading
import time
from urllib.parse import quote, urlsplit


def _connection(url):
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=120), parts.path or "/"


def _percentile(values, fraction):
    if not values:
        return 0
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * fraction))]


def run_get(url, seconds, connections, headers):
    latencies, failures, lock = [], [0], threading.Lock()
    deadline = time.monotonic() + seconds

    def work():
        connection, path = _connection(url)
        mine, failed = [], 0
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
            except OSError:
                failed += 1
                connection.close()
                continue
            mine.append(time.perf_counter() - started)
            if response.status >= 400:
                failed += 1
        with lock:
            latencies.extend(mine)
            failures[0] += failed

    started = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "p50_us": int(_percentile(latencies, 0.50) * 1e6),
        "p99_us": int(_percentile(latencies, 0.99) * 1e6),
        "non_2xx_3xx": failures[0],
        "socket_errors": 0,
    }


def run_post(url, attendees_file, connections, origin):
    bodies = []
    with open(attendees_file, encoding="utf-8") as lines:
        for line in lines:
            cookie, token, name, email, address = line.rstrip("\n").split("\t")
            body = f"csrfmiddlewaretoken={token}&name={name}&email={email}&consent=on&website="
            bodies.append((cookie, address, body))
    queue, lock = itertools.count(), threading.Lock()
    counts = {"redirects": 0, "other": {}, "socket_errors": 0}

    def work():
        connection, path = _connection(url)
        while True:
            with lock:
                index = next(queue)
            if index >= len(bodies):
                return
            cookie, address, body = bodies[index]
            headers = {
                "Cookie": f"csrftoken={cookie}",
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Forwarded-Proto": "https",
                "X-Forwarded-For": address,
                "Origin": origin,
            }
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
            except OSError:
                connection.close()
                with lock:
                    counts["socket_errors"] += 1
                continue
            with lock:
                if response.status == 302:
                    counts["redirects"] += 1
                else:
                    counts["other"][str(response.status)] = counts["other"].get(str(response.status), 0) + 1

    started = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    answered = counts["redirects"] + sum(counts["other"].values())
    return {"posts": answered, "seconds": elapsed, **counts}


def run_door(base_url, attendees_file, connections, config):
    steps = []
    with open(attendees_file, encoding="utf-8") as lines:
        for line in lines:
            search, check_in = line.rstrip("\n").split("\t")
            steps.append((search, check_in))
    queue, lock = itertools.count(), threading.Lock()
    latencies, counts = [], {"searches": 0, "checkins": 0, "other": {}}
    headers = {"Cookie": config["cookie"], "X-Forwarded-Proto": "https", "Origin": config["origin"]}

    def record(status, started, key):
        with lock:
            latencies.append(time.perf_counter() - started)
            if status == {"searches": 200, "checkins": 302}[key]:
                counts[key] += 1
            else:
                counts["other"][str(status)] = counts["other"].get(str(status), 0) + 1

    def work():
        connection, _ = _connection(base_url)
        while True:
            with lock:
                index = next(queue)
            if index >= len(steps):
                return
            search, check_in = steps[index]
            started = time.perf_counter()
            connection.request("GET", search, headers=headers)
            response = connection.getresponse()
            response.read()
            record(response.status, started, "searches")
            body = f"csrfmiddlewaretoken={config['token']}&next={quote(search, safe='')}"
            started = time.perf_counter()
            connection.request(
                "POST", check_in, body=body, headers=headers | {"Content-Type": "application/x-www-form-urlencoded"}
            )
            response = connection.getresponse()
            response.read()
            record(response.status, started, "checkins")

    threads = [threading.Thread(target=work) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        **counts,
        "p50_us": int(_percentile(latencies, 0.50) * 1e6),
        "p99_us": int(_percentile(latencies, 0.99) * 1e6),
    }


def run_rush(base_url, config):
    """The opening rush (bench/rush.py): each connection follows its people from the page to the post.

    A connection is opened when there is a request to send (http.client opens
    it again after gunicorn closed it): an idle connection would hold a sync
    worker, which a proxy in front never lets happen.
    """
    people = []
    with open(config["plan"], encoding="utf-8") as lines:
        for line in lines:
            arrival, posts, name, email, address = line.rstrip("\n").split("\t")
            people.append((config["start"] + float(arrival) / 1000, posts == "1", name, email, address))
    lock = threading.Lock()
    found = {"pages": 0, "page_errors": 0, "posts": 0, "redirects": 0, "other": {}, "page_us": [], "post_us": []}
    span = [None, 0.0]
    token_pattern = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

    def timed(connection, method, path, **kwargs):
        sent = time.monotonic()
        connection.request(method, path, **kwargs)
        response = connection.getresponse()
        body = response.read()
        answered = time.monotonic()
        with lock:
            span[0] = sent if span[0] is None else min(span[0], sent)
            span[1] = max(span[1], answered)
        return response, body, int((answered - sent) * 1e6)

    def work(mine):
        connection, _ = _connection(base_url)
        for person in mine:
            try:
                one(connection, *person)
            except OSError:
                connection.close()
                with lock:
                    found["other"]["no answer"] = found["other"].get("no answer", 0) + 1

    def one(connection, at, posts, name, email, address):
        time.sleep(max(0.0, at - time.monotonic()))
        # Each person from an address of their own, as the proxy in front reports it.
        proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": address}
        response, body, elapsed = timed(connection, "GET", config["page"], headers=proxied)
        cookie = (response.getheader("Set-Cookie") or "").partition("csrftoken=")[2].split(";")[0]
        token = token_pattern.search(body.decode(errors="replace"))
        with lock:
            found["pages"] += 1
            found["page_us"].append(elapsed)
            if response.status != 200 or not cookie or token is None:
                found["page_errors"] += 1
                return
        if not posts:
            return
        headers = proxied | {
            "Cookie": f"csrftoken={cookie}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": config["origin"],
        }
        form = f"csrfmiddlewaretoken={token[1]}&name={name}&email={email}&consent=on&website="
        response, _, elapsed = timed(connection, "POST", config["post"], body=form, headers=headers)
        with lock:
            found["posts"] += 1
            found["post_us"].append(elapsed)
            if response.status == 302:
                found["redirects"] += 1
            else:
                found["other"][str(response.status)] = found["other"].get(str(response.status), 0) + 1

    count = config["connections"]
    threads = [threading.Thread(target=work, args=(people[k::count],)) for k in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = span[1] - span[0] if span[0] is not None else 0.0
    return {**found, "other": [found["other"]], "seconds": seconds}


def main(argv):
    if argv[0] == "rush":
        print("BENCH " + json.dumps(run_rush(argv[1], json.loads(argv[2]))), flush=True)
        return
    if argv[0] == "door":
        result = run_door(argv[1], argv[2], int(argv[3]), json.loads(argv[4]))
    elif argv[0] == "get":
        url, seconds, connections, headers = argv[1], float(argv[2]), int(argv[3]), json.loads(argv[4])
        result = run_get(url, seconds, connections, headers)
    else:
        url, attendees_file, connections, origin = argv[1], argv[2], int(argv[3]), argv[4]
        result = run_post(url, attendees_file, connections, origin)
    print("BENCH " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
