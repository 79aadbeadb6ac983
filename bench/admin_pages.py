"""The registrations admin at growing sizes: the changelist and the streamed CSV export of one talk.

(Not `admin.py`: Django would take that for this app's admin module.)
"""

import re
import statistics
import time
from dataclasses import dataclass

import requests
from django.db import connection
from django.test import Client
from django.urls import reverse

from . import load, stack

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Sample:
    size: int
    changelist_ms: float
    changelist_queries: int
    export_seconds: float
    export_rows: int
    export_queries: int
    peak_rss: int  # the worker's peak RSS during the export
    growth: int  # how far above its RSS before the export that peak went


class Staff:
    """A logged-in organizer's browser behind the proxy (cookies sent by hand: they are Secure)."""

    def __init__(self, url: str, username: str, password: str, *, first_page: str = ""):
        self.url = url
        self.session = requests.Session()
        login = reverse("admin:login")
        page = self.session.get(url + login, headers=load.PROXY_HEADERS, timeout=120)
        self.cookies = {"csrftoken": page.cookies["csrftoken"]}
        self.token = TOKEN.search(page.text)[1]
        response = self.session.post(
            url + login,
            data={"csrfmiddlewaretoken": self.token, "username": username, "password": password, "next": "/"},
            headers=self.headers(),
            allow_redirects=False,
            timeout=120,
        )
        assert response.status_code == 302, f"admin login failed: {response.status_code}"
        self.cookies.update(response.cookies.get_dict())
        # Logging in rotates the CSRF secret: take the token the next page carries.
        page = self.get(first_page or reverse("admin:registrations_registration_changelist"))
        self.token = TOKEN.search(page.text)[1]

    def headers(self) -> dict[str, str]:
        return load.PROXY_HEADERS | {
            "Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items()),
            "Origin": self.url.replace("http://", "https://"),
        }

    def get(self, path: str) -> requests.Response:
        return self.session.get(self.url + path, headers=self.headers(), timeout=600)

    def export(self, path: str, data: dict) -> tuple[float, int]:
        """Download the CSV export of the changelist at `path`; (seconds, data rows)."""
        started = time.perf_counter()
        response = self.session.post(
            self.url + path,
            data={"csrfmiddlewaretoken": self.token, **data},
            headers=self.headers(),
            stream=True,
            timeout=600,
        )
        assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv"), (
            response.status_code,
            response.text[:500],
        )
        lines = sum(chunk.count(b"\n") for chunk in response.iter_content(64 * 1024))
        return time.perf_counter() - started, lines - 1


def changelist_path(event) -> str:
    return reverse("admin:registrations_registration_changelist") + f"?event__id__exact={event.pk}"


def export_all(event) -> dict:
    """What the changelist posts for "Export" with "Select all N registrations" ticked (one row ticked too)."""
    one = event.registrations.values_list("pk", flat=True).first()
    return {"action": "export_csv", "select_across": "1", "index": "0", "_selected_action": str(one)}


def measure(staff: Staff, host, event, size: int, *, repeat: int) -> Sample:
    path = changelist_path(event)
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = staff.get(path)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    workers = stack.worker_pids(host)
    before = stack.peak_rss_reset(workers)
    seconds, rows = staff.export(path, export_all(event))
    peaks = stack.peak_rss_bytes(workers)
    return Sample(
        size=size,
        changelist_ms=statistics.median(timings) * 1000,
        changelist_queries=0,
        export_seconds=seconds,
        export_rows=rows,
        export_queries=0,
        peak_rss=max(peaks.values()),
        growth=max(peaks[pid] - before[pid] for pid in workers),
    )


def count_queries(user, event) -> tuple[int, int]:
    """SQL statements of the changelist and of the whole export (the stream read to its end), in this process."""
    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    client.force_login(user)
    path = changelist_path(event)
    counts = []
    for method in ("changelist", "export"):
        statements = []

        def record(execute, sql, params, many, context, statements=statements):
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            if method == "changelist":
                response = client.get(path)
                assert response.status_code == 200
            else:
                response = client.post(path, export_all(event))
                assert response.status_code == 200
                b"".join(response.streaming_content)
        counts.append(len(statements))
    return counts[0], counts[1]
