"""The pages of held seats: where a sign-up lands, the emailed buttons (GET asks, POST does), bad links."""

import datetime
import re
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from events.when import deadline_text
from outbox.models import OutgoingMail
from registrations import services
from registrations.models import KEEP_SEAT_LINK_SALT, MailKind, Registration

pytestmark = pytest.mark.django_db

Status = Registration.Status


def page_text(response):
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def form_data(n, **overrides):
    return {
        "name": f"Student {n}",
        "email": f"student{n}@example.edu",
        "consent": "on",
        "website": "",
    } | overrides


def register(client, event, n, **extra):
    return client.post(reverse("registrations:register", kwargs={"slug": event.slug}), form_data(n), **extra)


def path_of(url):
    return urlsplit(url).path


def held(event, n=1):
    return services.register(
        event=event, name=f"Zoë {n}", email=f"zoe{n}@example.edu", signups_from_address=11
    ).registration


def test_one_lab_behind_one_address_all_get_a_seat_or_a_hold(client, make_event):
    event = make_event(capacity=200)

    responses = [register(client, event, n, REMOTE_ADDR="198.51.100.7") for n in range(14)]

    assert {response.status_code for response in responses} == {302}
    registrations = list(Registration.objects.order_by("pk"))
    assert [r.status for r in registrations] == [Status.CONFIRMED] * 10 + [Status.HELD] * 4
    # Another address is counted on its own.
    register(client, event, 99, REMOTE_ADDR="198.51.100.8")
    assert Registration.objects.get(email="student99@example.edu").status == Status.CONFIRMED
    # Each lands on a page of their own that says what to do, and by when.
    page = client.get(responses[-1]["Location"])
    by = deadline_text(event, registrations[-1].hold_until, now=timezone.now())
    assert f"Check your email to keep your seat by {by}" in page_text(page)
    assert "student13@example.edu" in page_text(page)
    # The page a script lands on never carries the button's link.
    assert registrations[-1].keep_seat_url.split("/r/")[1].split("/")[0] not in page.content.decode()


def test_the_keep_button_speaks_of_an_address_at_an_international_domain_as_typed(client, event):
    registration = services.register(event=event, name="Zoë", email="zoe@例え.jp", signups_from_address=11).registration
    assert registration.email == "zoe@xn--r8jz45g.jp"
    url = path_of(registration.keep_seat_url)

    done = client.post(url, follow=True)

    assert "Your confirmation with the calendar invite is on its way to zoe@例え.jp." in page_text(done)
    assert "xn--" not in done.content.decode()


def test_the_keep_button_asks_on_get_and_keeps_on_post_once(client, event):
    registration = held(event)
    url = path_of(registration.keep_seat_url)

    page = client.get(url)
    assert page.status_code == 200
    assert page["Cache-Control"].startswith("max-age=0")
    assert "Keep your seat" in page_text(page)
    assert Registration.objects.get(pk=registration.pk).status == Status.HELD  # a mail scanner changes nothing

    done = client.post(url, follow=True)
    assert "Done: the seat is yours" in page_text(done)
    assert "Your seat is confirmed" in page_text(done)
    again = client.post(url, follow=True)
    assert "Done" not in page_text(again) and "Your seat is confirmed" in page_text(again)
    assert Registration.objects.get(pk=registration.pk).status == Status.CONFIRMED
    assert OutgoingMail.objects.filter(kind=MailKind.CONFIRMATION).count() == 1
    # The button's link does only that: it is no key to the registration's own page.
    assert client.get(url.removesuffix("keep/")).status_code == 404
    assert registration.manage_url.split("/r/")[1] not in again.content.decode()


def test_a_late_press_says_the_seat_went_to_the_next_person(client, make_event):
    event = make_event(capacity=1)
    registration = held(event)
    Registration.objects.filter(pk=registration.pk).update(hold_until=timezone.now() - datetime.timedelta(minutes=1))
    url = path_of(registration.keep_seat_url)

    assert "Your time to confirm has run out" in page_text(client.get(url))
    assert "Your time to confirm has run out" in page_text(client.get(registration.get_absolute_url()))
    response = client.post(url, follow=True)

    text = page_text(response)
    assert "It was not confirmed in time, so the place was released." in text
    assert "register again" in text
    assert Registration.objects.get(pk=registration.pk).status == Status.CANCELLED
    manage = page_text(client.get(registration.get_absolute_url()))
    assert "It was not confirmed by email in time, so the place was released at" in manage


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # tampered
        lambda token: token[:20],  # cut short
        lambda token: signing.Signer(salt="registrations.manage").sign(token.split(":")[0]),  # another link's power
    ],
)
def test_an_altered_link_gets_a_clear_page_and_changes_nothing(client, event, mangle):
    registration = held(event)
    token = signing.Signer(salt=KEEP_SEAT_LINK_SALT).sign(registration.key)

    for name in ("registrations:keep_seat", "registrations:free_seat"):
        url = reverse(name, kwargs={"token": mangle(token)})
        for response in (client.get(url), client.post(url)):
            assert response.status_code == 404
            assert "This link does not work" in page_text(response)
    assert Registration.objects.get(pk=registration.pk).status == Status.HELD


def test_free_my_seat_asks_then_frees_once(client, make_event):
    event = make_event(capacity=1)
    seated = services.register(event=event, name="Ana", email="ana@example.edu").registration
    waiting = services.register(event=event, name="Bo", email="bo@example.edu").registration
    url = path_of(seated.free_seat_url)

    ask = client.get(url)
    assert "Free your seat?" in page_text(ask)
    assert Registration.objects.get(pk=seated.pk).status == Status.CONFIRMED

    first = client.post(url, follow=True)
    second = client.post(url, follow=True)

    assert "Your seat is free for the next person" in page_text(first)
    assert "Your seat is free" in page_text(second) and "Thank you for letting us know" not in page_text(second)
    assert Registration.objects.get(pk=waiting.pk).status == Status.CONFIRMED
    assert OutgoingMail.objects.filter(kind=MailKind.CANCELLATION).count() == 1
    assert client.get(url.removesuffix("free/")).status_code == 404


def test_free_my_seat_speaks_of_the_waiting_list_only_when_someone_waits(client, make_event):
    event = make_event(capacity=1)
    seated = services.register(event=event, name="Ana", email="ana@example.edu").registration
    url = path_of(seated.free_seat_url)

    alone = page_text(client.get(url))
    services.register(event=event, name="Bo", email="bo@example.edu")
    waited_for = page_text(client.get(url))

    assert "Your registration is cancelled and your seat becomes free for someone else." in alone
    assert "waiting list" not in alone
    assert "your seat goes to the next person on the waiting list." in waited_for


def test_a_held_seat_speaks_of_the_waiting_list_only_when_someone_waits(client, make_event):
    event = make_event(capacity=2)
    registration = held(event)

    alone = page_text(client.get(registration.get_absolute_url()))
    services.register(event=event, name="Ana", email="ana@example.edu")
    services.register(event=event, name="Bo", email="bo@example.edu")  # waits
    waited_for = page_text(client.get(registration.get_absolute_url()))

    assert "If you don't by then, it becomes free for someone else." in alone
    assert "waiting list" not in alone
    assert "If you don't by then, it goes to the next person on the waiting list." in waited_for


def test_a_waiting_list_place_to_confirm_shows_on_the_registrants_page(client, make_event):
    event = make_event(capacity=1)
    services.register(event=event, name="Ana", email="ana@example.edu")
    waiting = held(event)

    text = page_text(client.get(waiting.get_absolute_url()))

    assert "You are on the waiting list" in text
    by = deadline_text(event, waiting.hold_until, now=timezone.now())
    assert f"Check your email to keep your place by {by}" in text
    keep = page_text(client.get(path_of(waiting.keep_seat_url)))
    assert "Keep your place on the waiting list" in keep and "Keep my place" in keep


def test_the_talk_page_says_when_the_organizers_ask_to_confirm_by_email(client, make_event):
    event = make_event(confirm_by_email=True)

    assert "The organizers ask everyone to confirm by email" in page_text(client.get(event.get_absolute_url()))
    response = register(client, event, 1)
    assert Registration.objects.get().status == Status.HELD
    assert "Check your email to keep your seat by" in page_text(client.get(response["Location"]))


def test_the_registrants_page_of_an_offer_says_until_when(client, make_event):
    event = make_event(start=timezone.now() + datetime.timedelta(hours=4), capacity=1)
    seated = services.register(event=event, name="Ana", email="ana@example.edu").registration
    waiting = services.register(event=event, name="Bo", email="bo@example.edu").registration
    services.cancel_registration(registration=seated)
    waiting.refresh_from_db()

    text = page_text(client.get(waiting.get_absolute_url()))

    by = deadline_text(event, waiting.hold_until, now=timezone.now())
    assert f"A seat is free for you: take it by {by}" in text
    assert "Attend online instead" not in text
    # Nobody else waits: the seat would not be offered to anyone.
    assert "If you don't by then, the seat becomes free for someone else." in text
    assert "The seat offered to you becomes free for someone else." in page_text(
        client.get(path_of(waiting.free_seat_url))
    )
    services.register(event=event, name="Cy", email="cy@example.edu")
    assert "the seat is offered to the next person on the waiting list." in page_text(
        client.get(waiting.get_absolute_url())
    )
    assert "The seat offered to you goes to the next person on the waiting list." in page_text(
        client.get(path_of(waiting.free_seat_url))
    )
