"""The listing embedded in another site's page, in Chromium, under that page's strict CSP."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from events.models import Event

from .host_page import serve_host_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def host_policy(our_origin: str) -> str:
    # What a careful department site would send: nothing inline, our origin
    # allowed for the script and its data only, and no DOM sinks for strings.
    return (
        f"default-src 'none'; script-src {our_origin}; connect-src {our_origin}; frame-src {our_origin}; "
        "style-src 'none'; img-src 'none'; base-uri 'none'; form-action 'none'; "
        "require-trusted-types-for 'script'"
    )


@pytest.fixture
def talks(make_event):
    now = timezone.now()
    return [
        make_event(title="First <b>talk</b>", start=now + datetime.timedelta(days=2)),
        make_event(title="Second talk", start=now + datetime.timedelta(days=4), status=Event.Status.CANCELLED),
        make_event(title="Third talk", start=now + datetime.timedelta(days=6)),
        make_event(title="Fourth talk", start=now + datetime.timedelta(days=8)),
    ]


@pytest.fixture
def csp_errors(page):
    errors = []
    page.on(
        "console",
        lambda message: errors.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return errors


def test_script_snippet_renders_the_next_talks_under_a_strict_host_policy(page, live_server, talks, csp_errors):
    html = f"""<!doctype html><html lang="en"><head><title>Department of CS</title></head><body>
      <h1>Department news</h1>
      <div id="seminar-talks"><a href="{live_server.url}/series/ifml-seminar/">Upcoming talks</a></div>
      <script src="{live_server.url}/static/listings/embed.js" defer
              data-source="{live_server.url}/series/ifml-seminar/talks.json"
              data-target="seminar-talks" data-limit="3"></script>
    </body></html>"""
    # A session cookie of ours in the browser must not travel with the embed's request.
    page.context.add_cookies([{"name": "sessionid", "value": "secret-session", "url": live_server.url}])
    listing_requests = []
    page.on("request", lambda request: listing_requests.append(request) if "talks.json" in request.url else None)

    with serve_host_page(html, policy=host_policy(live_server.url)) as host:
        page.goto(host + "/")
        items = page.locator("#seminar-talks .seminar-embed__talk")
        expect(items).to_have_count(3)

        expect(items.nth(0).locator(".seminar-embed__title")).to_have_text("First <b>talk</b>")
        expect(items.nth(0).locator(".seminar-embed__title")).to_have_attribute(
            "href", f"https://seminars.example.edu/events/{talks[0].slug}/"
        )
        expect(items.nth(0)).to_contain_text("Atlas Wang (The University of Texas at Austin)")
        expect(items.nth(0)).to_contain_text("GDC 6.302")
        expect(items.nth(1)).to_contain_text("Cancelled")
        expect(items.nth(2)).to_contain_text("Third talk")
        expect(page.locator("#seminar-talks")).not_to_contain_text("Fourth talk")
        expect(page.locator("#seminar-talks b")).to_have_count(0)
        expect(page.get_by_role("link", name="All talks of IFML Seminar")).to_be_visible()

        assert len(listing_requests) == 1
        assert "cookie" not in listing_requests[0].all_headers()
        assert "referer" not in listing_requests[0].all_headers()
        assert [cookie["name"] for cookie in page.context.cookies()] == ["sessionid"]
        assert page.evaluate("document.cookie") == ""
        assert page.evaluate("window.localStorage.length") == 0
    assert csp_errors == []


def test_script_keeps_the_fallback_when_the_listing_is_unreachable(page, live_server, talks):
    html = f"""<!doctype html><html lang="en"><head><title>Host</title></head><body>
      <div id="seminar-talks"><a href="{live_server.url}/series/ifml-seminar/">Upcoming talks</a></div>
      <script src="{live_server.url}/static/listings/embed.js" defer
              data-source="{live_server.url}/series/no-such-series/talks.json" data-target="seminar-talks"></script>
    </body></html>"""
    with serve_host_page(html, policy=host_policy(live_server.url)) as host:
        with page.expect_response(lambda response: "talks.json" in response.url):
            page.goto(host + "/")
        expect(page.get_by_role("link", name="Upcoming talks")).to_be_visible()
        expect(page.locator(".seminar-embed")).to_have_count(0)


def frame_host_page(live_server):
    return f"""<!doctype html><html lang="en"><head><title>Host</title></head><body>
      <iframe src="{live_server.url}/series/ifml-seminar/embed/" title="IFML Seminar: upcoming talks"></iframe>
    </body></html>"""


def test_frame_shows_on_a_site_the_series_lists(page, live_server, talks, series, csp_errors):
    with serve_host_page(frame_host_page(live_server), policy=host_policy(live_server.url)) as host:
        series.embed_origins = host
        series.save()
        page.goto(host + "/")
        frame = page.frame_locator("iframe")
        expect(frame.get_by_role("link", name="First <b>talk</b>")).to_be_visible()
        expect(frame.locator(".embed__talk")).to_have_count(4)
        expect(frame.locator(".embed__talk--cancelled")).to_contain_text("Second talk")
    assert csp_errors == []


def test_frame_is_refused_on_a_site_the_series_does_not_list(page, live_server, talks, series, csp_errors):
    series.embed_origins = "https://www.cs.utexas.edu"
    series.save()
    with serve_host_page(frame_host_page(live_server), policy=host_policy(live_server.url)) as host:
        with page.expect_response(lambda response: "/embed/" in response.url):
            page.goto(host + "/")
        page.wait_for_load_state("load")
        expect(page.frame_locator("iframe").get_by_role("link", name="First <b>talk</b>")).to_have_count(0)
    assert any("frame-ancestors" in error for error in csp_errors)
