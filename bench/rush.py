"""The opening rush: registration opens, and people come at once.

People arrive at random moments within a window of a few seconds (the same
schedule for the subject and its baseline). Each loads the talk page as a new
visitor, which gives them a CSRF cookie and token of their own; those who
register post the form at once with them. 64 connections carry everyone, one
person at a time each. The latencies are measured per request from when it is
sent, so the pages' and the posts' p50 and p99 include waiting in the server's
queue, not in ours.

The client is bench/client.py's, not wrk: it opens a connection when it has a
request to send, as the proxy in front of gunicorn does. wrk opens the next
connection as soon as a response closes the last one (gunicorn's sync workers
close every connection) and then waits for the person to arrive: an idle
connection a sync worker has accepted keeps that worker waiting for it.
"""

import json
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import data, load

HERE = Path(__file__).resolve().parent


@dataclass
class RushResult:
    people: int
    posters: int
    pages: int
    page_errors: int
    posts: int
    redirects: int
    other: dict[str, int]
    seconds: float  # from the first request sent to the last answer
    page_ms: list[float] = field(repr=False)
    post_ms: list[float] = field(repr=False)

    @property
    def rate(self) -> float:
        """Requests (pages and posts) answered per second."""
        return (self.pages + self.posts) / self.seconds if self.seconds else 0.0

    @property
    def signups_per_second(self) -> float:
        return self.redirects / self.seconds if self.seconds else 0.0

    def percentile(self, which: str, fraction: float) -> float:
        values = sorted(self.page_ms if which == "page" else self.post_ms)
        if not values:
            return 0.0
        return values[min(len(values) - 1, int(len(values) * fraction))]

    @property
    def page_p50(self) -> float:
        return self.percentile("page", 0.50)

    @property
    def page_p99(self) -> float:
        return self.percentile("page", 0.99)

    @property
    def post_p50(self) -> float:
        return self.percentile("post", 0.50)

    @property
    def post_p99(self) -> float:
        return self.percentile("post", 0.99)

    @property
    def post_mean(self) -> float:
        return statistics.fmean(self.post_ms) if self.post_ms else 0.0


def schedule(path: Path, *, people: int, posters: int, window: float, seed: int = 21) -> Path:
    """Who arrives when (ms into the window, uniformly at random), from which address, and which `posters`
    of them register."""
    rng = random.Random(seed)
    arrivals = sorted(rng.uniform(0, window * 1000) for _ in range(people))
    registering = set(rng.sample(range(people), posters))
    lines = []
    for n, arrival in enumerate(arrivals):
        name, email = data.attendee_fields(n)
        lines.append(f"{arrival:.1f}\t{int(n in registering)}\t{name}\t{email}\t{data.attendee_address(n)}\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines), encoding="utf-8")
    return path


def run(
    base_url: str, page_path: str, post_path: str, plan: Path, *, connections: int = 64, timeout: float = 600
) -> RushResult:
    """Play the schedule in `plan` on `base_url`: each person GETs `page_path`, posters then POST `post_path`."""
    lines = plan.read_text(encoding="utf-8").splitlines()
    people, posters = len(lines), sum(line.split("\t")[1] == "1" for line in lines)
    origin = base_url.replace("http://", "https://")
    # Every thread of the client is ready by then; arrivals count from it.
    start = time.monotonic() + 1.0
    config = {"page": page_path, "post": post_path, "plan": str(plan), "origin": origin, "start": start}
    config["connections"] = connections
    result = subprocess.run(
        [sys.executable, "-m", "bench.client", "rush", base_url, json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=timeout + 120,
        check=False,
        cwd=HERE.parent,
    )
    found = load.bench_line(result.stdout + result.stderr)
    other: dict[str, int] = {}
    for part in found["other"]:
        for status, count in part.items():
            other[status] = other.get(status, 0) + count
    return RushResult(
        people=people,
        posters=posters,
        pages=found["pages"],
        page_errors=found["page_errors"],
        posts=found["posts"],
        redirects=found["redirects"],
        other=other,
        seconds=found["seconds"],
        page_ms=[value / 1000 for value in found["page_us"]],
        post_ms=[value / 1000 for value in found["post_us"]],
    )
