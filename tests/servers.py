"""Real gunicorn processes for tests that cross process or host boundaries.

`serve(environment)` starts `gunicorn seminar_site.wsgi` with the project's
gunicorn.conf.py on a free port, in production mode unless told otherwise, and
stops it (the whole process group) when the block ends, also on failure.
"""

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

BASE_DIR = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
STARTUP_TIMEOUT = 60


def free_port() -> int:
    """A port above 8100 that nothing listens on right now."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port > 8100:
            return port
    raise RuntimeError("no free port above 8100")


def production_environment(**overrides) -> dict[str, str]:
    """A clean production environment; overrides win.

    Everything a developer's .env could set that changes what these tests see is
    given explicitly: read_env never overrides a variable already present.
    """
    env = {
        "PATH": os.environ.get("PATH", ""),
        "LANG": "C.UTF-8",
        "DEBUG": "false",
        "DEFAULT_FROM_EMAIL": "IFML Seminar <seminars@cs.utexas.edu>",
        "CACHE_URL": "",
        "TRUSTED_PROXY_COUNT": "0",
        "REGISTRATION_RATE_LIMIT": "10/h",
        "EMAIL_RATE_LIMIT": "10/h",
        "EMAIL_ADDRESS_RATE_LIMIT": "10/h",
        "LOGIN_RATE_LIMIT": "10/15m",
        "ADMIN_PATH": "admin/",
        "DATABASE_POOL": "false",
        "CONN_MAX_AGE": "0",
        "LOG_LEVEL": "INFO",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": "https://seminars.example.edu",
        "SECURE_SSL_REDIRECT": "true",
        "SECURE_HSTS_SECONDS": "0",
        "MAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "4",
        "GUNICORN_TIMEOUT": "120",
        "GUNICORN_GRACEFUL_TIMEOUT": "5",
    }
    return env | overrides


@dataclass
class Host:
    url: str
    process: subprocess.Popen
    log_path: Path
    session: requests.Session = field(default_factory=requests.Session)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def collect_static(directory: Path) -> None:
    """Production serves the hashed names collectstatic writes; gunicorn needs them before it starts."""
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=BASE_DIR,
        env=production_environment(STATIC_ROOT=str(directory), DATABASE_URL="sqlite:///:memory:"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@contextlib.contextmanager
def serve(environment: dict[str, str], log_path: Path):
    """Run gunicorn with `environment` (see production_environment) until the block ends."""
    port = free_port()
    env = environment | {"PORT": str(port), "GUNICORN_BIND": f"127.0.0.1:{port}"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed argv
            [str(GUNICORN), "seminar_site.wsgi", "--config", "gunicorn.conf.py"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    host = Host(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    try:
        _wait_until_listening(host, port)
        yield host
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        host.session.close()


def _wait_until_listening(host: Host, port: int) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if host.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {host.process.returncode}:\n{host.log()}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not listen on {port} within {STARTUP_TIMEOUT} s:\n{host.log()}")
