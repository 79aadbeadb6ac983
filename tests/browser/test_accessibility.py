"""axe-core on every public page, in every state a visitor can meet it in."""

import datetime
import re
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import get_resolver, reverse
from django.utils import timezone
from playwright.sync_api import expect

from events.models import Event
from registrations import services
from tests.browser.axe import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DAY = datetime.timedelta(days=1)


PAGES = {}


def state(name, status=200):
    """Register a function that sets up a page in one state and returns its path."""

    def register_state(build):
        PAGES[name] = (build, status)
        return build

    return register_state


ZOOM = "https://utexas.zoom.us/j/91234567890"


def register(event, name="Ana Ortiz", email="ana@example.edu", attendance="in_person"):
    return services.register(event=event, name=name, email=email, attendance=attendance).registration


@state("home")
def _home(make_event):
    make_event()
    return "/"


@state("past talks")
def _past_talks(make_event):
    make_event(start=timezone.now() - 3 * DAY)
    return "/events/past/"


@state("series")
def _series(make_event):
    return make_event().series.get_absolute_url()


@state("talk open")
def _open(make_event):
    return make_event().get_absolute_url()


@state("talk full, waiting list")
def _waitlist(make_event):
    event = make_event(capacity=1)
    register(event)
    return event.get_absolute_url()


@state("talk full, no waiting list")
def _full(make_event):
    event = make_event(capacity=1, waitlist_enabled=False)
    register(event)
    return event.get_absolute_url()


@state("talk not yet open")
def _not_open_yet(make_event):
    return make_event(registration_opens=timezone.now() + 2 * DAY).get_absolute_url()


@state("talk closed")
def _closed(make_event):
    now = timezone.now()
    return make_event(registration_opens=now - 5 * DAY, registration_closes=now - DAY).get_absolute_url()


@state("talk cancelled")
def _cancelled(make_event):
    note = "The speaker is ill.\nWe will reschedule in spring."
    return make_event(status=Event.Status.CANCELLED, cancellation_note=note).get_absolute_url()


@state("talk under way")
def _under_way(make_event):
    return make_event(start=timezone.now() - datetime.timedelta(minutes=30)).get_absolute_url()


@state("talk past")
def _past(make_event):
    return make_event(start=timezone.now() - 3 * DAY).get_absolute_url()


def _registration(make_event, status):
    event = make_event(capacity=1)
    registration = register(event)
    if status == "waitlisted":
        registration = register(event, name="Ben Okafor", email="ben@example.edu")
    elif status == "cancelled":
        services.cancel_registration(registration=registration)
    return registration


@state("confirmation")
def _confirmation(make_event):
    return _registration(make_event, "confirmed").get_absolute_url() + "?new=1"


@state("self-service, confirmed")
def _self_service(make_event):
    return _registration(make_event, "confirmed").get_absolute_url()


@state("self-service, waiting list")
def _self_service_waitlisted(make_event):
    return _registration(make_event, "waitlisted").get_absolute_url()


@state("self-service, cancelled")
def _self_service_cancelled(make_event):
    return _registration(make_event, "cancelled").get_absolute_url()


@state("cancel, asking")
def _cancel(make_event):
    return _registration(make_event, "confirmed").get_absolute_url() + "cancel/"


def _held(make_event):
    event = make_event(capacity=1)
    return services.register(
        event=event, name="Zoë Ñúñez", email="zoe@example.edu", signups_from_address=11
    ).registration


@state("self-service, seat held until confirmed")
def _self_service_held(make_event):
    return _held(make_event).get_absolute_url() + "?new=1"


@state("keep your seat, asking")
def _keep_seat(make_event):
    return urlsplit(_held(make_event).keep_seat_url).path


@state("free your seat, asking")
def _free_seat(make_event):
    return urlsplit(_registration(make_event, "confirmed").free_seat_url).path


@state("a seat's link that does not work", status=404)
def _seat_link_invalid(make_event):
    return reverse("registrations:keep_seat", kwargs={"token": "not-a-token"})


@state("already registered")
def _already(make_event):
    return make_event().get_absolute_url() + "register/already/"


@state("talk in person and online")
def _hybrid(make_event):
    return make_event(attendance_mode="hybrid", online_capacity=10, stream_url=ZOOM).get_absolute_url()


@state("talk online only, full, waiting list")
def _online_full(make_event):
    event = make_event(attendance_mode="online", online_capacity=1, stream_url=ZOOM)
    register(event, attendance="online")
    return event.get_absolute_url()


@state("self-service, online with the link")
def _self_service_online(make_event):
    event = make_event(attendance_mode="hybrid", stream_url=ZOOM)
    return register(event, attendance="online").get_absolute_url()


@state("self-service, waiting for the room, may switch online")
def _self_service_switch(make_event):
    event = make_event(attendance_mode="hybrid", capacity=1, stream_url=ZOOM)
    register(event)
    return register(event, name="Ben Okafor", email="ben@example.edu").get_absolute_url()


@state("lost your link")
def _lost_link(make_event):
    return reverse("registrations:lost_link")


@state("lost your link, sent")
def _lost_link_sent(make_event):
    return reverse("registrations:lost_link_sent")


def _follower(make_event, *, confirmed=False):
    from followers import services as following

    series = make_event().series
    follower = following.follow(series=series, email="ana@example.edu")
    if confirmed:
        follower = following.confirm(follower=follower, wants_announcements=True, wants_digest=True)
    return follower


@state("follow a series")
def _follow(make_event):
    return reverse("followers:follow", kwargs={"slug": make_event().series.slug})


@state("follow a series, sent")
def _follow_sent(make_event):
    return reverse("followers:follow_sent", kwargs={"slug": make_event().series.slug})


@state("follow a series, confirm")
def _follow_confirm(make_event):
    return _follower(make_event).confirm_path


@state("follow a series, change what you get")
def _follow_change(make_event):
    return _follower(make_event, confirmed=True).confirm_path


@state("change what you get, from the link in an email")
def _follow_manage(make_event):
    return _follower(make_event, confirmed=True).manage_path


@state("change what you get, ask for the link")
def _follow_manage_link(make_event):
    return reverse("followers:manage_link")


@state("change what you get, link sent")
def _follow_manage_link_sent(make_event):
    return reverse("followers:manage_link_sent")


@state("unsubscribe")
def _unsubscribe(make_event):
    return _follower(make_event, confirmed=True).unsubscribe_path


@state("follow link that does not work", status=404)
def _follow_link_invalid(make_event):
    return reverse("followers:confirm", kwargs={"token": "not-a-token"})


def _after_the_talk(make_event, *, checked_in=True, with_materials=True):
    """A talk that ended three hours ago with one registrant (checked in unless told), and its materials."""
    from materials import services as materials
    from tests import pdfs

    event = make_event(title="Video generation, two years on")
    registration = register(event)
    if checked_in:
        services.check_in(registration=registration)
    end = timezone.now() - datetime.timedelta(hours=3)
    Event.objects.filter(pk=event.pk).update(start=end - datetime.timedelta(hours=1), end=end)
    if with_materials:
        materials.add_material(
            event=event, kind="slides", title="Slides", visibility="public", upload=pdfs.upload(pdfs.slides())
        )
        materials.add_material(
            event=event,
            kind="recording",
            title="Recording",
            visibility="registrants",
            url="https://video.example.edu/watch/42",
        )
    event.refresh_from_db()
    return event, registration


@state("past talks, searched")
def _archive_searched(make_event):
    _after_the_talk(make_event)
    return "/events/past/?q=video&year=" + str(timezone.now().year)


@state("past talks, nothing found")
def _archive_nothing(make_event):
    _after_the_talk(make_event)
    return "/events/past/?q=nothing+like+it"


@state("talk past, with its materials")
def _talk_with_materials(make_event):
    return _after_the_talk(make_event)[0].get_absolute_url()


@state("a registrant's materials")
def _registrant_materials(make_event):
    from materials.models import registrant_path

    return registrant_path(_after_the_talk(make_event)[1])


@state("self-service after the talk, with its materials")
def _self_service_materials(make_event):
    return _after_the_talk(make_event)[1].get_absolute_url()


@state("a registrant's materials, none yet")
def _registrant_no_materials(make_event):
    from materials.models import registrant_path

    return registrant_path(_after_the_talk(make_event, with_materials=False)[1])


@state("the speaker's materials page")
def _speaker_materials(make_event):
    from django.urls import reverse

    from speaker_edits.models import SpeakerInvitation

    event, _registration = _after_the_talk(make_event)
    invitation = SpeakerInvitation.objects.create(
        event=event,
        speaker=event.speakers.get(),
        email="atlas@example.edu",
        expires_at=timezone.now() + 7 * DAY,
    )
    return reverse("materials:speaker", kwargs={"event_id": event.pk, "token": invitation.token})


@state("feedback form")
def _feedback(make_event):
    from feedback.models import answer_path

    return answer_path(_after_the_talk(make_event)[1]) + "?rating=5"


@state("feedback saved")
def _feedback_saved(make_event):
    from feedback.models import answer_path
    from feedback.services import record_feedback

    registration = _after_the_talk(make_event)[1]
    record_feedback(registration=registration, rating=4, comment="Clear.")
    return answer_path(registration) + "?saved=1"


@state("feedback refused, did not attend", status=403)
def _feedback_refused(make_event):
    from feedback.models import answer_path

    return answer_path(_after_the_talk(make_event, checked_in=False)[1])


@state("not found", status=404)
def _not_found(make_event):
    return "/events/no-such-talk/"


@pytest.mark.parametrize("name", PAGES)
def test_no_serious_accessibility_violation(page, make_event, name):
    build, status = PAGES[name]

    response = page.goto(build(make_event))

    assert response.status == status
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page)


def test_the_form_with_its_errors_shown_is_accessible(page, make_event):
    event = make_event()
    page.goto(event.get_absolute_url())
    page.get_by_label("Email:", exact=True).fill("not-an-address")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_text("Enter a valid email address.", exact=True)).to_be_visible()

    assert_accessible(page)


def test_too_many_attempts_page_is_accessible(page, make_event, settings):
    settings.REGISTRATION_RATE_LIMIT = "1/h"
    event = make_event()

    for attempt in range(2):
        page.goto(event.get_absolute_url())
        page.get_by_label("Name:", exact=True).fill("Ana Ortiz")
        page.get_by_label("Email:", exact=True).fill(f"ana{attempt}@example.edu")
        page.get_by_label(re.compile("I agree")).check()
        with page.expect_response(lambda response: "/register/" in response.url) as answer:
            page.get_by_role("button", name="Register").click()

    assert answer.value.status == 429
    expect(page.get_by_role("heading", level=1, name="Too many attempts")).to_be_visible()
    assert_accessible(page)


def test_refused_form_page_is_accessible(page, make_event):
    # A form sent without the site's cookie (blocked, or expired) gets the friendly 403.
    page.goto(make_event().get_absolute_url())
    page.context.clear_cookies()
    page.get_by_label("Name:", exact=True).fill("Ana Ortiz")
    page.get_by_label("Email:", exact=True).fill("ana@example.edu")
    page.get_by_label(re.compile("I agree")).check()
    with page.expect_response(lambda response: "/register/" in response.url) as answer:
        page.get_by_role("button", name="Register").click()

    assert answer.value.status == 403
    expect(page.get_by_role("heading", level=1, name="Please try again")).to_be_visible()
    assert_accessible(page)


@pytest.mark.parametrize(
    ("status", "heading"), [(400, "Bad request"), (403, "Not allowed"), (500, "Something went wrong")]
)
def test_error_pages_are_accessible(page, rf, status, heading):
    # No public URL fails this way on purpose: the site's own handlers render the page,
    # served at our address so that it is styled exactly as a visitor would see it.
    request = rf.get("/")
    handler = get_resolver().resolve_error_handler(status)
    exception = {400: SuspiciousOperation(), 403: PermissionDenied()}
    response = handler(request, exception[status]) if status in exception else handler(request)
    assert response.status_code == status
    page.route(
        "**/error-page/",
        lambda route: route.fulfill(status=status, body=response.content, content_type="text/html; charset=utf-8"),
    )

    page.goto("/error-page/")

    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(heading))
    assert_accessible(page)


def test_the_check_itself_finds_what_is_broken(page, make_event):
    # A scan that cannot fail proves nothing: break the talk page on purpose.
    page.goto(make_event().get_absolute_url())
    page.evaluate("() => document.querySelector('label[for=id_name]').remove()")

    with pytest.raises(AssertionError, match=r"label \(critical\): Form elements must have labels"):
        assert_accessible(page)
