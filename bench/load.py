"""The load generators: wrk where it is installed, a Python client otherwise.

Both run in processes of their own (wrk; the Python client as `python -m
bench.client`), never in the harness or the server, and report the same
figures: requests, seconds, p50/p99 latency, and anything that was not the
expected answer.
"""

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
WRK = shutil.which("wrk")
# What a proxy in front of the site tells it: the production settings redirect plain HTTP.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


def generator_name() -> str:
    if WRK:
        version = subprocess.run([WRK, "--version"], capture_output=True, text=True, check=False)
        return (version.stdout or version.stderr).splitlines()[0].split(" Copyright")[0].strip()
    return "Python client (bench/client.py; wrk is not installed)"


@dataclass
class GetResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failures: int
    # The server's CPU time per request (its workers', threads included), when measured.
    cpu_us: float | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class PostResult:
    posts: int
    seconds: float
    redirects: int
    other: dict[str, int]
    socket_errors: int

    @property
    def rate(self) -> float:
        return self.posts / self.seconds if self.seconds else 0.0


def bench_line(output: str) -> dict:
    for line in output.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line.removeprefix("BENCH "))
    raise RuntimeError(f"the load generator printed no result:\n{output}")


def get(url: str, *, seconds: float, connections: int = 16, threads: int = 2, headers=None) -> GetResult:
    """GET `url` over `connections` keep-alive connections for `seconds`."""
    headers = PROXY_HEADERS | (headers or {})
    if WRK:
        command = [
            WRK,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "60s",
            "--latency",
            "-s",
            str(HERE / "get.lua"),
        ]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        command.append(url)
    else:
        command = [
            sys.executable,
            "-m",
            "bench.client",
            "get",
            url,
            str(seconds),
            str(connections),
            json.dumps(headers),
        ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 120, check=False, cwd=HERE.parent
    )
    data = bench_line(result.stdout + result.stderr)
    return GetResult(
        requests=data["requests"],
        seconds=data["seconds"],
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        failures=data["non_2xx_3xx"] + data["socket_errors"],
    )


def post_each(
    base_url: str, path: str, attendees_file: Path, *, connections: int = 64, timeout: float = 600
) -> PostResult:
    """POST once per line of `attendees_file` to `path`, over `connections` connections; expect redirects."""
    origin = base_url.replace("http://", "https://")
    if WRK:
        command = [
            WRK,
            "-t1",
            f"-c{connections}",
            f"-d{int(timeout)}s",
            "-s",
            str(HERE / "burst.lua"),
            base_url,
            "--",
            path,
            str(attendees_file),
            origin,
        ]
    else:
        command = [
            sys.executable,
            "-m",
            "bench.client",
            "post",
            base_url + path,
            str(attendees_file),
            str(connections),
            origin,
        ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout + 120, check=False, cwd=HERE.parent
    )
    data = bench_line(result.stdout + result.stderr)
    return PostResult(
        posts=data["posts"],
        seconds=data["seconds"],
        redirects=data["redirects"],
        other=data["other"],
        socket_errors=data["socket_errors"],
    )


@dataclass
class DoorResult:
    searches: int
    checkins: int
    other: dict[str, int]
    p50_ms: float
    p99_ms: float


def door(base_url: str, attendees_file: Path, *, cookie: str, token: str, connections: int, timeout: float = 600):
    """Search for each attendee, then check them in, over `connections` connections; latency over both."""
    origin = base_url.replace("http://", "https://")
    if WRK:
        command = [
            WRK, "-t1", f"-c{connections}", f"-d{int(timeout)}s", "--timeout", f"{int(timeout)}s", "--latency",
            "-s", str(HERE / "door.lua"),
            base_url, "--", str(attendees_file), cookie, token, origin,
        ]  # fmt: skip
    else:
        command = [
            sys.executable, "-m", "bench.client", "door", base_url, str(attendees_file), str(connections),
            json.dumps({"cookie": cookie, "token": token, "origin": origin}),
        ]  # fmt: skip
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout + 120, check=False, cwd=HERE.parent
    )
    data = bench_line(result.stdout + result.stderr)
    return DoorResult(
        searches=data["searches"],
        checkins=data["checkins"],
        other=data["other"],
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
    )
