"""Playwright against a live server, with Debian's Chromium.

Fixtures for every browser test:

- `page`: a fresh browser context (its own cookies) on the live server, with
  `base_url` set, so `page.goto("/events/...")` works. It records every request
  (`page.requests`) and fails the test on a JavaScript error or a console
  error on one of our pages (a Content-Security-Policy refusal shows up as one;
  foreign pages a test serves itself are exempt). A failing test
  leaves a screenshot in the artifacts folder.
- `new_page`: a factory for more pages, each in its own context (a second person).
- `artifacts`: the folder for screenshots and reports (TEST_ARTIFACTS_DIR,
  default var/test-artifacts/).
- `live_site_url`: SITE_URL pointed at the live server, so absolute links work.
- `sent_links`: the links of the last email sent to an address (uses `live_site_url`).

The accessibility check lives in tests/browser/axe.py (`assert_accessible(page)`).

Browser tests need Chromium at /usr/bin/chromium: without it they are skipped,
unless REQUIRE_BROWSER is set (CI), which turns the skip into a failure.
"""

import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connection
from django.test.testcases import LiveServerThread

from tests.mime import parse

# The Playwright sync API runs an event loop in the test's thread, which
# makes Django refuse database access from it unless told it is safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--font-render-hinting=none",
]
# The machine is shared and slow at times: wait generously, never on a clock.
TIMEOUT_MS = 20_000
# Chromium logs every 4xx/5xx response as a console error; those are asserted
# on the response itself, not treated as a broken page.
_RESOURCE_STATUS = re.compile(r"^Failed to load resource: the server responded with a status of \d+")


class _OneRequestAtATime(ThreadedWSGIServer):
    """Django's live server, answering one request at a time.

    Each connection keeps its thread (an idle connection the browser opened ahead
    never holds up the next request); the application runs, and its response is
    sent, under one lock, released when the server closes the response.
    """

    def set_app(self, application):
        lock = threading.Lock()

        def one_at_a_time(environ, start_response):
            lock.acquire()
            try:
                return _ReleasedOnClose(application(environ, start_response), lock)
            except BaseException:
                lock.release()
                raise

        super().set_app(one_at_a_time)


class _ReleasedOnClose:
    def __init__(self, result, lock):
        self.result, self.lock = result, lock

    def __iter__(self):
        return iter(self.result)

    def close(self):
        try:
            if hasattr(self.result, "close"):
                self.result.close()
        finally:
            if self.lock is not None:
                self.lock, lock = None, self.lock
                lock.release()


@pytest.fixture(scope="session", autouse=True)
def _live_server_one_request_at_a_time():
    # On SQLite the live server's threads share the test's one in-memory connection: two
    # requests at once on it (a page and the browser's next one) can hang both for good.
    if connection.vendor != "sqlite":
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LiveServerThread, "server_class", _OneRequestAtATime)
        yield


@pytest.fixture(autouse=True)
def _once(run_once):
    # What a browser shows does not depend on the database engine: CI drives Chromium
    # in its SQLite run only; the PostgreSQL run keeps its time for the concurrency tests.
    pass


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        reason = f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"REQUIRE_BROWSER is set, but {reason}.")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    path = Path(os.environ.get("TEST_ARTIFACTS_DIR") or Path(django_settings.BASE_DIR) / "var" / "test-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def live_site_url(settings, live_server):
    """SITE_URL set to the live server: links in emails, invites and share tags lead to it."""
    settings.SITE_URL = live_server.url
    return live_server.url


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.browser_test_failed = report.failed
    return report


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _open_page(browser, base_url, **context_options):
    # An English browser unless the test asks for another (`new_page(locale="es-ES")`).
    context = browser.new_context(**({"base_url": base_url, "locale": "en-US"} | context_options))
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.requests = []
    page.problems = []
    ours = _origin(base_url)
    page.on("request", lambda request: page.requests.append(request))

    # Only our own pages are held to this: a test may open a foreign page (an
    # embedding site, say) that is meant to refuse something.
    def on_page_error(error):
        if _origin(page.url) == ours:
            page.problems.append(f"JavaScript error on {page.url}: {error}")

    def on_console(message):
        if (
            message.type == "error"
            and _origin(message.location.get("url") or page.url) == ours
            and not _RESOURCE_STATUS.match(message.text)
        ):
            page.problems.append(f"console error on {page.url}: {message.text}")

    page.on("pageerror", on_page_error)

    page.on("console", on_console)
    return page


@pytest.fixture
def new_page(request, browser, live_server, artifacts):
    """Open another page in a context of its own: `new_page(viewport={...})`."""
    pages = []

    def make(**context_options):
        page = _open_page(browser, live_server.url, **context_options)
        pages.append(page)
        return page

    yield make
    try:
        if getattr(request.node, "browser_test_failed", False):
            for number, page in enumerate(pages, start=1):
                name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-150:]
                page.screenshot(path=artifacts / "failures" / f"{name}-{number}.png", full_page=True)
        problems = [problem for page in pages for problem in page.problems]
    finally:
        for page in pages:
            page.context.close()
    if problems and not getattr(request.node, "browser_test_failed", False):
        pytest.fail("The page reported problems:\n" + "\n".join(problems))


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def sent_links(live_site_url):
    """The http(s) links in the text part of the last email sent to `address` (they lead to the live server)."""

    def links(address: str) -> list[str]:
        messages = [parse(message) for message in mail.outbox if any(address in to for to in message.to)]
        assert messages, f"no email was sent to {address}"
        text = messages[-1].get_body(preferencelist=("plain",)).get_content()
        return re.findall(r"https?://\S+", text)

    return links
