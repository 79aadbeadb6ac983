"""What the benchmarks run against: a database of their own, the production
settings (bench/settings.py) and gunicorn from the repository's gunicorn.conf.py.

A run covers every stack it can reach (`stacks`), each in a process of its
own: SQLite in var/bench/ with the database cache, always; PostgreSQL with
the database cache when DATABASE_URL points to one (the benchmark database is
that name plus "_bench", created afresh and dropped at the end); and Redis as
the cache when CACHE_URL points to one (on PostgreSQL when there is one).
"""

import contextlib
import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ

from tests.servers import BASE_DIR, Host, free_port, production_environment, serve

WORK_DIR = BASE_DIR / "var" / "bench"


@dataclass(frozen=True)
class Stack:
    """One set-up the scenarios run on."""

    name: str  # sqlite, postgres, redis
    label: str
    database_url: str  # "" for SQLite in var/bench/
    cache_url: str  # "" for the database cache
    # Every scenario, or only those the cache changes (the pages and the opening rush).
    full: bool

    def environ(self, base: dict[str, str]) -> dict[str, str]:
        env = {key: value for key, value in base.items() if key not in ("DATABASE_URL", "CACHE_URL")}
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        if self.cache_url:
            env["CACHE_URL"] = self.cache_url
        return env


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://", "pgsql://"))


def stacks(environ: dict[str, str]) -> list[Stack]:
    """SQLite always; PostgreSQL with DATABASE_URL; Redis as the cache with CACHE_URL=redis://."""
    database_url, cache_url = environ.get("DATABASE_URL", ""), environ.get("CACHE_URL", "")
    found = [Stack("sqlite", "SQLite, database cache", "", "", full=True)]
    postgres = database_url if _is_postgres(database_url) else ""
    if postgres:
        found.append(Stack("postgres", "PostgreSQL, database cache", postgres, "", full=True))
    if cache_url.startswith(("redis://", "rediss://")):
        label = "PostgreSQL, Redis cache" if postgres else "SQLite, Redis cache"
        found.append(Stack("redis", label, postgres, cache_url, full=False))
    return found


@dataclass
class Database:
    url: str
    vendor: str
    admin_url: str = ""  # PostgreSQL: where CREATE/DROP DATABASE run
    name: str = ""


def bench_database(source_url: str) -> Database:
    """The database the run owns: source_url's server with a "_bench" name, or SQLite in var/bench/."""
    if _is_postgres(source_url):
        parts = urlsplit(source_url)
        name = (parts.path.strip("/") or "seminar") + "_bench"
        return Database(
            url=urlunsplit(parts._replace(path=f"/{name}")),
            vendor="postgresql",
            admin_url=urlunsplit(parts._replace(path="/postgres")),
            name=name,
        )
    return Database(url=f"sqlite:///{WORK_DIR / 'db.sqlite3'}", vendor="sqlite")


def recreate(database: Database) -> None:
    if database.vendor == "postgresql":
        import psycopg

        with psycopg.connect(_libpq(database.admin_url), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{database.name}"')
    else:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{WORK_DIR / 'db.sqlite3'}{suffix}").unlink()


def drop(database: Database) -> None:
    if database.vendor == "postgresql":
        import psycopg

        with psycopg.connect(_libpq(database.admin_url), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')


def _libpq(url: str) -> str:
    config = environ.Env.db_url_config(url)
    return (
        f"host={config['HOST'] or '127.0.0.1'} port={config['PORT'] or 5432} dbname={config['NAME']} "
        f"user={config['USER']}" + (f" password={config['PASSWORD']}" if config.get("PASSWORD") else "")
    )


def environment(database: Database, **overrides) -> dict[str, str]:
    """Production mode with the benchmark settings module; shared by the harness and every process it starts."""
    cache = {"CACHE_URL": os.environ["CACHE_URL"]} if os.environ.get("CACHE_URL") else {}
    return production_environment(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=database.url,
        DATA_DIR=str(WORK_DIR),
        STATIC_ROOT=str(WORK_DIR / "static"),
        DEFAULT_FROM_EMAIL="IFML Seminar <seminars@seminars.example.edu>",
        # The staff's pages come from one address, many times a second: the limits would stop them.
        REGISTRATION_RATE_LIMIT="off",
        EMAIL_RATE_LIMIT="off",
        EMAIL_ADDRESS_RATE_LIMIT="off",
        LOGIN_RATE_LIMIT="off",
        LOGIN_ACCOUNT_RATE_LIMIT="off",
        # The fair-seats rules (HOLD_AFTER, HOLD_DEMAND) at their defaults: a rush is what they are for.
        # Each person of the burst and the rush comes from an address of their own, as the proxy in
        # front reports it (X-Forwarded-For), so HOLD_AFTER holds nobody merely for sharing the harness's.
        TRUSTED_PROXY_COUNT="1",
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="1",
        GUNICORN_MAX_REQUESTS="0",
        # The shipped default (the tests' servers open a connection per request so
        # their test database can be dropped; production keeps one per worker).
        CONN_MAX_AGE="60",
        LOG_LEVEL="WARNING",
        # A key space of its own: a run never reads another run's cached pages.
        CACHE_KEY_PREFIX=f"bench-{uuid.uuid4().hex[:12]}",
        **cache,
        **overrides,
    )


@contextlib.contextmanager
def gunicorn(env: dict[str, str], name: str = "web"):
    """gunicorn with the repository's gunicorn.conf.py (2 sync workers), stopped when the block ends."""
    with serve(env, WORK_DIR / f"{name}.log") as host:
        yield host


def worker_pids(host: Host) -> list[int]:
    """The gunicorn workers (children of the arbiter) serving `host`."""
    children = Path(f"/proc/{host.process.pid}/task/{host.process.pid}/children")
    return [int(pid) for pid in children.read_text().split()]


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids) -> float:
    """The CPU time (user and system) the processes `pids` have used so far."""
    total = 0
    for pid in pids:
        # The command name, in parentheses, may hold spaces: the fields follow the last ")".
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])
    return total / _TICKS


def peak_rss_reset(pids) -> dict[int, int]:
    """Start measuring peak memory afresh (Linux: writing 5 to clear_refs resets VmHWM); the RSS of each now."""
    for pid in pids:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    return {pid: _status(pid, "VmRSS") for pid in pids}


def peak_rss_bytes(pids) -> dict[int, int]:
    """The peak RSS of each process since the last reset."""
    return {pid: _status(pid, "VmHWM") for pid in pids}


def _status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    return 0


@contextlib.contextmanager
def smtp_sink():
    """A local SMTP server that accepts and discards every message (aiosmtpd's Sink), in its own process."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink", "-l", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        import socket

        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def prepare_work_dir() -> None:
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    for log in WORK_DIR.glob("*.log"):
        log.unlink()
    shutil.rmtree(WORK_DIR / "attendees", ignore_errors=True)
