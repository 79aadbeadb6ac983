"""The registration burst: distinct attendees post the form at once; the insert baseline takes the same posts."""

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from . import data, load

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def collect_attendees(page_url: str, count: int, path: Path) -> Path:
    """Each attendee loads the talk page once, as a browser would, and keeps the CSRF cookie and token it got."""

    def visit(n):
        # A fresh session each: no attendee shares a cookie with another.
        response = requests.get(page_url, headers=load.PROXY_HEADERS, timeout=120)
        response.raise_for_status()
        cookie = response.cookies["csrftoken"]
        token = TOKEN.search(response.text)[1]
        name, email = data.attendee_fields(n)
        return f"{cookie}\t{token}\t{name}\t{email}\t{data.attendee_address(n)}\n"

    with ThreadPoolExecutor(4) as pool:
        lines = list(pool.map(visit, range(count)))
    assert len({line.split("\t")[0] for line in lines}) == count, "attendees must not share a CSRF cookie"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines), encoding="utf-8")
    return path


def run(host_url: str, path: str, attendees: Path, *, connections: int) -> load.PostResult:
    return load.post_each(host_url, path, attendees, connections=connections)
