"""Following a series in a real browser: the form on the cached talk page, the confirmation, unsubscribing."""

import datetime

import pytest
from playwright.sync_api import expect

from followers.models import Follower
from tests.browser.axe import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_follow_confirm_and_unsubscribe(page, make_event, sent_links, new_page, series):
    series.digest_weekday, series.digest_time = 0, datetime.time(8, 0)  # it sends a weekly digest
    series.save()
    event = make_event()
    # Another visitor first: the second gets the page from the cache, with a token of their own.
    new_page().goto(event.get_absolute_url())

    page.goto(event.get_absolute_url())
    page.get_by_label("Your email address:").fill("ana@example.edu")
    page.get_by_role("button", name="Follow", exact=True).click()

    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    confirm_link = next(link for link in sent_links("ana@example.edu") if "/follow/confirm/" in link)
    page.goto(confirm_link)
    page.get_by_label("A weekly digest of the coming week's talks").uncheck()
    assert_accessible(page)
    page.get_by_role("button", name="Confirm and follow").click()

    expect(page.get_by_role("heading", name="You follow IFML Seminar")).to_be_visible()
    assert_accessible(page)
    follower = Follower.objects.get()
    assert follower.confirmed_at is not None and (follower.wants_announcements, follower.wants_digest) == (True, False)

    page.goto(follower.unsubscribe_path)
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    assert_accessible(page)
    assert Follower.objects.get().unsubscribed_at is not None
