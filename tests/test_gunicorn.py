"""The web server as deployed: gunicorn with gunicorn.conf.py, in production mode, in its own process."""

import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.servers import BASE_DIR, free_port, production_environment, serve

# Generous: the point is "a few seconds, not a hang", on a shared, slow machine.
PROBE_TIMEOUT = 60


@pytest.fixture(scope="module")
def sqlite_site(tmp_path_factory, static_root):
    """A migrated SQLite database of its own, shared by this module's servers."""
    database = tmp_path_factory.mktemp("db") / "db.sqlite3"
    environment = production_environment(DATABASE_URL=f"sqlite:///{database}", STATIC_ROOT=str(static_root))
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return environment


def test_healthz_answers_200_without_a_cookie_and_is_not_logged(sqlite_site, tmp_path):
    with serve(sqlite_site, tmp_path / "gunicorn.log") as host:
        # A load balancer probes by address, over plain HTTP, many times.
        responses = [host.session.get(f"{host.url}/healthz", timeout=PROBE_TIMEOUT) for _ in range(30)]
        page = host.session.get(f"{host.url}/events/past/", headers={"X-Forwarded-Proto": "https"}, timeout=60)
        time.sleep(1)  # let the access log line reach the file
        log = host.log()

    assert {response.status_code for response in responses} == {200}
    assert all(response.text == "ok\n" and "Set-Cookie" not in response.headers for response in responses)
    assert page.status_code == 200
    assert "/healthz" not in log
    access_line = next(line for line in log.splitlines() if "GET /events/past/" in line)
    assert f"[{page.headers['X-Request-ID']}]" in access_line


def test_the_access_log_shows_no_token(sqlite_site, tmp_path):
    token = "gY4w2s0c9hKQ0xV1bT3nq8eJm2LpZr7A:Vg3kq9XoR8l1c2mW5nB0pYzQhT4uJ6aKfE7dS1xC2vB"
    with serve(sqlite_site, tmp_path / "gunicorn.log") as host:
        response = host.session.get(f"{host.url}/r/{token}/", headers={"X-Forwarded-Proto": "https"}, timeout=60)
        time.sleep(1)
        log = host.log()

    assert response.status_code == 404
    assert "GET /r/[token]/" in log
    assert token not in log
    assert token.split(":")[0] not in log


def test_gunicorn_opens_no_control_socket(sqlite_site, tmp_path):
    home, runtime = tmp_path / "home", tmp_path / "runtime"
    home.mkdir()
    runtime.mkdir()
    # Where gunicorn would put it: XDG_RUNTIME_DIR first, else the home directory.
    for environment in (sqlite_site | {"HOME": str(home)}, sqlite_site | {"XDG_RUNTIME_DIR": str(runtime)}):
        with serve(environment, tmp_path / "gunicorn.log") as host:
            assert host.session.get(f"{host.url}/healthz", timeout=PROBE_TIMEOUT).status_code == 200
            assert list(home.rglob("*")) == [] and list(runtime.rglob("*")) == []


@pytest.fixture
def closed_port():
    return free_port()


def test_healthz_answers_503_at_once_when_the_database_is_down(static_root, tmp_path, closed_port):
    environment = production_environment(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed_port}/seminars", STATIC_ROOT=str(static_root)
    )
    with serve(environment, tmp_path / "gunicorn.log") as host:
        response = host.session.get(f"{host.url}/healthz", timeout=PROBE_TIMEOUT)

    assert response.status_code == 503
    assert response.text == "database unavailable\n"
    assert "Set-Cookie" not in response.headers


@pytest.fixture
def silent_database():
    """A port that accepts connections and never answers, like a database host that hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", free_port()))
    listener.listen(64)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=10)
        for connection in accepted:
            connection.close()
        listener.close()


def test_healthz_answers_503_within_seconds_when_the_database_hangs(static_root, tmp_path, silent_database):
    environment = production_environment(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{silent_database}/seminars",
        DATABASE_CONNECT_TIMEOUT="2",
        STATIC_ROOT=str(static_root),
    )
    with serve(environment, tmp_path / "gunicorn.log") as host:
        response = host.session.get(f"{host.url}/healthz", timeout=PROBE_TIMEOUT)

    assert response.status_code == 503


def test_the_503_page_shows_in_the_site_look_when_the_database_is_down(static_root, tmp_path, closed_port):
    environment = production_environment(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed_port}/seminars", STATIC_ROOT=str(static_root)
    )
    with serve(environment, tmp_path / "gunicorn.log") as host:
        response = host.session.get(f"{host.url}/", headers={"X-Forwarded-Proto": "https"}, timeout=60)
        time.sleep(1)
        log = host.log()

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "10"
    assert 'class="site-header"' in response.text
    assert re.search(r"<h1>\s*Back in a moment\s*</h1>", response.text)
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    # The outage is logged on one line, with its request id, and no traceback.
    error_line = next(line for line in log.splitlines() if "The database cannot be reached" in line)
    assert f"[{response.headers['X-Request-ID']}]" in error_line
    assert "Traceback" not in log


def test_simultaneous_registrations_on_sqlite_all_go_through(sqlite_site, tmp_path):
    """Two workers with four threads each write to one SQLite file at once: nobody gets a "database is locked" 500."""
    demo = subprocess.run(
        [sys.executable, "manage.py", "load_demo"],
        cwd=BASE_DIR,
        env=sqlite_site,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    talk = demo.stdout.split()[-1]
    environment = sqlite_site | {
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "4",
        "REGISTRATION_RATE_LIMIT": "off",
        "EMAIL_ADDRESS_RATE_LIMIT": "off",
        # Everyone comes from one address here, in a rush: no seat is held for confirmation.
        "HOLD_AFTER": "off",
        "HOLD_DEMAND": "off",
    }
    with serve(environment, tmp_path / "gunicorn.log") as host:

        def fresh_loads():
            # New connections, so that both workers answer some (and keep the page in memory).
            return [
                " ".join(
                    requests.get(f"{host.url}{talk}", headers={"X-Forwarded-Proto": "https"}, timeout=60).text.split()
                )
                for _ in range(8)
            ]

        assert all("In the room: 40 of 40 seats left" in text for text in fresh_loads())
        page = host.session.get(f"{host.url}{talk}", headers={"X-Forwarded-Proto": "https"}, timeout=PROBE_TIMEOUT)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
        lunch = re.search(r'name="(question_\d+)" value="yes"', page.text)[1]
        headers = {
            "Cookie": f"csrftoken={page.cookies['csrftoken']}",
            "X-Forwarded-Proto": "https",
            "Origin": host.url.replace("http://", "https://"),
        }

        def register(n):
            data = {"csrfmiddlewaretoken": token, "name": f"Person {n}", "email": f"person{n}@example.edu"}
            data |= {"consent": "on", "website": "", lunch: "yes"}
            if 'name="attendance"' in page.text:  # the demo talk is hybrid: everyone wants the room
                data["attendance"] = "in_person"
            return requests.post(
                f"{host.url}{talk}register/", data=data, headers=headers, allow_redirects=False, timeout=120
            ).status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(register, range(50)))
        # One host: every worker sees the last registration on its next request (the stamp file), no lag.
        after = fresh_loads()

    assert statuses == [302] * 50, host.log()[-3000:]
    database = sqlite_site["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        counts = dict(connection.execute("SELECT status, COUNT(*) FROM registrations_registration GROUP BY status"))
        taken = connection.execute("SELECT seats_taken FROM events_event").fetchone()[0]
    assert counts == {"confirmed": 40, "waitlisted": 10}
    assert taken == 40  # in the room
    assert all("Full – join the waiting list" in text and "seats left" not in text for text in after)


@pytest.mark.parametrize(
    ("cpu_max", "expected"),
    [
        ("150000 100000\n", 2),  # docker run --cpus=1.5, a Kubernetes limit of 1500m: 2 CPUs' worth of workers
        ("50000 100000\n", 1),
        ("max 100000\n", 16),  # no quota: every CPU the process may run on
        (None, 16),  # no cgroup v2 file (not in a container, or cgroup v1)
    ],
)
def test_workers_are_sized_by_the_cpus_a_container_may_use_not_the_host_s(tmp_path, monkeypatch, cpu_max, expected):
    import os
    import runpy

    conf = runpy.run_path(str(BASE_DIR / "gunicorn.conf.py"))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)))  # a big host
    path = tmp_path / "cpu.max"
    if cpu_max is not None:
        path.write_text(cpu_max)

    assert conf["cpus"](path) == expected
