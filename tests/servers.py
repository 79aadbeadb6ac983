"""Real gunicorn processes for tests that cross process or host boundaries.

`serve(environment)` starts `gunicorn seminar_site.wsgi` with the project's
gunicorn.conf.py on a free port, in production mode unless told otherwise, and
stops it (the whole process group) when the block ends, also on failure.
`Visitor` and `Organizer` then use the site over HTTP as people do.
"""

import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
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
        "REGISTRATION_RATE_LIMIT": "60/h",
        "RATE_LIMIT_EXEMPT_NETWORKS": "",
        "HOLD_AFTER": "10",
        "HOLD_DEMAND": "50%/10m",
        "SEAT_HOLD_MINUTES": "30",
        "OFFER_BEFORE_HOURS": "24",
        "OFFER_MINUTES": "120",
        "EMAIL_RATE_LIMIT": "10/h",
        "EMAIL_ADDRESS_RATE_LIMIT": "10/h",
        "LOGIN_RATE_LIMIT": "10/15m",
        "LOGIN_ACCOUNT_RATE_LIMIT": "5/15m",
        "LOGIN_SLOWDOWN_ADDRESSES": "5",
        # Organizers of these servers sign in with a password to reach the admin; the
        # second factor and the identity providers are tested in tests/staff.
        "PASSWORD_LOGIN": "true",
        "REQUIRE_2FA": "false",
        "SSO_PROVIDERS": "",
        "BREAK_GLASS_USERS": "",
        "STAFF_IDLE_MINUTES": "60",
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


# Talking to hosts as people do, through the proxy in front (TLS ends there: it
# adds X-Forwarded-Proto, and Secure cookies are sent back by hand).

REQUEST_TIMEOUT = 120
CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def proxy_headers(host: Host, cookies: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
    headers = {"X-Forwarded-Proto": "https", "Origin": host.url.replace("http://", "https://")}
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    return headers | extra


def fresh_get(host: Host, path: str) -> requests.Response:
    """GET `path` as a new visitor on a new connection (so any worker of the host may answer)."""
    response = requests.get(
        f"{host.url}{path}", headers={"X-Forwarded-Proto": "https"}, allow_redirects=False, timeout=REQUEST_TIMEOUT
    )
    assert response.status_code == 200, f"GET {path}: {response.status_code}\n{response.text[:2000]}"
    return response


class Visitor:
    """Someone who opened a talk's page on `host`: their CSRF cookie, and the token of the form they got."""

    def __init__(self, host: Host, event):
        response = fresh_get(host, event.get_absolute_url())
        self.cookies = {"csrftoken": response.cookies["csrftoken"]}
        self.token = CSRF_TOKEN.search(response.text)[1]

    @property
    def cookie(self) -> str:
        return f"csrftoken={self.cookies['csrftoken']}"

    def register(self, host: Host, event, n: int, *, client_ip: str) -> requests.Response:
        """Post the talk's form to `host` (any host: they share the secret key) as Person `n`."""
        return requests.post(
            f"{host.url}/events/{event.slug}/register/",
            data={
                "csrfmiddlewaretoken": self.token,
                "name": f"Person {n}",
                "email": f"person{n}@example.edu",
                "consent": "on",
                "website": "",
            },
            headers=proxy_headers(host, self.cookies, **{"X-Forwarded-For": client_ip}),
            allow_redirects=False,
            timeout=REQUEST_TIMEOUT,
        )


class Organizer:
    """An organizer logged in to the admin of `host` with their username and password."""

    def __init__(self, host: Host, username: str, password: str):
        self.host = host
        login = f"{host.url}/admin/login/"
        page = requests.get(login, headers=proxy_headers(host), timeout=REQUEST_TIMEOUT)
        self.cookies = {"csrftoken": page.cookies["csrftoken"]}
        response = self.post(
            login, {"csrfmiddlewaretoken": CSRF_TOKEN.search(page.text)[1], "username": username, "password": password}
        )
        assert response.status_code == 302, response.text[:2000]
        self.cookies |= response.cookies.get_dict()

    def get(self, url: str) -> requests.Response:
        return requests.get(url, headers=proxy_headers(self.host, self.cookies), timeout=REQUEST_TIMEOUT)

    def post(self, url: str, data) -> requests.Response:
        return requests.post(
            url,
            data=data,
            headers=proxy_headers(self.host, self.cookies),
            allow_redirects=False,
            timeout=REQUEST_TIMEOUT,
        )


class TcpProxy:
    """A TCP relay from a free local port to `target_port`, which a test can cut and restore.

    Cut: connections through it are closed and new ones refused, as when the
    database host goes away; restore: it listens again on the same port. A
    test's own database outage, without touching the database server others use.
    """

    def __init__(self, target_port: int, target_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self.port = free_port()
        self.listener: socket.socket | None = None
        self.connections: set[socket.socket] = set()
        self.lock = threading.Lock()

    def __enter__(self):
        self.restore()
        return self

    def __exit__(self, *exc_info):
        self.cut()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self.lock:
            connections, self.connections = self.connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                if self.listener is not listener:  # cut meanwhile
                    client.close()
                    upstream.close()
                    return
                self.connections |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
