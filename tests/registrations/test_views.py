import datetime
import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from events.models import Event
from events.services import cancel_event
from outbox.models import OutgoingMail
from registrations import services
from registrations.models import Answer, MailKind, Registration
from tests.mime import html_body, invite_parts, sent, text_body

pytestmark = pytest.mark.django_db


def form_data(**overrides):
    return {
        "name": "Ana López",
        "email": "ana@ut.edu",
        "affiliation": "UT Austin",
        "position": "student",
        "consent": "on",
        "website": "",
    } | overrides


def register_url(event):
    return reverse("registrations:register", kwargs={"slug": event.slug})


def text(response):
    # Whitespace-normalised page text, so assertions don't depend on line wrapping.
    return " ".join(response.content.decode().split())


def visible_text(response):
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


# The panel on the talk page


def test_talk_page_shows_seats_left_and_the_form(make_event, sign_up, client):
    event = make_event(capacity=40)
    for _ in range(28):
        sign_up(event)

    response = client.get(event.get_absolute_url())

    assert response.status_code == 200
    assert "12 of 40 seats left" in text(response)
    assert f'action="{register_url(event)}"' in response.content.decode()
    assert "csrfmiddlewaretoken" in response.content.decode()


def test_talk_page_offers_the_waiting_list_when_full(make_event, sign_up, client):
    event = make_event(capacity=1)
    sign_up(event)
    sign_up(event)

    page = text(client.get(event.get_absolute_url()))

    assert "Full – join the waiting list" in page
    assert "1 person is waiting" in page
    assert "Join the waiting list</button>" in page


def test_talk_page_says_full_without_form_when_waitlist_off(make_event, sign_up, client):
    event = make_event(capacity=1, waitlist_enabled=False)
    sign_up(event)

    response = client.get(event.get_absolute_url())

    assert "Sorry, this talk is full." in text(response)
    assert register_url(event) not in response.content.decode()


def test_talk_page_says_when_the_waiting_list_is_full_too(make_event, sign_up, client):
    event = make_event(capacity=1, waitlist_limit=1)
    sign_up(event)
    sign_up(event)

    response = client.get(event.get_absolute_url())

    assert "Sorry, this talk is full and its waiting list is full too." in text(response)
    assert register_url(event) not in response.content.decode()


def test_staff_preview_of_a_draft_says_registration_is_not_open(make_event, admin_client):
    event = make_event(status=Event.Status.DRAFT)

    response = admin_client.get(event.get_absolute_url())

    assert "this talk has not been published yet" in text(response)
    assert register_url(event) not in response.content.decode()


def test_talk_page_says_when_registration_opens(make_event, client):
    opens = timezone.now() + datetime.timedelta(days=3)
    event = make_event(registration_opens=opens)

    response = client.get(event.get_absolute_url())

    local = timezone.localtime(opens, event.local_time_zone)
    assert f"Registration opens on {local:%A}, {local:%B} {local.day}, {local.year}" in text(response)
    assert register_url(event) not in response.content.decode()


def test_talk_page_says_registration_closed(make_event, client):
    event = make_event(
        registration_opens=timezone.now() - datetime.timedelta(days=3),
        registration_closes=timezone.now() - datetime.timedelta(hours=1),
    )

    response = client.get(event.get_absolute_url())

    assert "Registration closed on" in text(response)
    assert register_url(event) not in response.content.decode()


def test_talk_page_of_cancelled_talk(make_event, client):
    event = make_event(status=Event.Status.CANCELLED)

    response = client.get(event.get_absolute_url())

    assert "This talk was cancelled" in text(response)
    assert register_url(event) not in response.content.decode()


def test_talk_page_of_past_talk(make_event, client):
    event = make_event(start=timezone.now() - datetime.timedelta(days=2))

    response = client.get(event.get_absolute_url())

    # Said once, in the banner; the registration panel says what it means for registering.
    assert text(response).count("This talk has already taken place.") == 1
    assert "Registration closed when the talk began." in text(response)
    assert register_url(event) not in response.content.decode()


def test_talk_page_shows_nobody_personal(make_event, sign_up, client):
    event = make_event(capacity=1)
    sign_up(event, name="Secret Person", email="secret@example.edu")
    sign_up(event, name="Waiting Person", email="waiting@example.edu")

    response = client.get(event.get_absolute_url())
    page = text(response)

    assert "Full – join the waiting list" in page
    assert "1 person is waiting" in page
    assert "Secret Person" not in page
    assert "secret@example.edu" not in page
    assert "Waiting Person" not in page


# Registering through the form


def test_register_redirects_to_confirmation_page(event, client):
    response = client.post(register_url(event), form_data())

    registration = Registration.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/r/{registration.token}/?new=1"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Thank you, your seat is confirmed" in text(page)
    assert "Ana López" in text(page)
    assert event.title in text(page)
    assert registration.status == Registration.Status.CONFIRMED
    assert registration.outgoing_mails.get().kind == MailKind.CONFIRMATION


def test_register_on_full_talk_shows_waitlist_position(make_event, sign_up, client):
    event = make_event(capacity=1)
    sign_up(event)
    sign_up(event)

    response = client.post(register_url(event), form_data(), follow=True)

    assert "You are on the waiting list" in text(response)
    assert "You are number 2 on the waiting list" in visible_text(response)


def test_double_submit_creates_one_registration(event, client):
    first = client.post(register_url(event), form_data())
    second = client.post(register_url(event), form_data())

    assert Registration.objects.count() == 1
    assert second.status_code == 302
    assert second["Location"] == reverse("registrations:already_registered", kwargs={"slug": event.slug})
    assert first["Location"] != second["Location"]
    event.refresh_from_db()
    assert event.seats_taken == 1


@pytest.mark.parametrize("email", ["ANA@UT.EDU", "  ana@ut.edu  ", "Ana@Ut.edu"])
def test_duplicate_in_other_case_or_with_spaces_says_already_registered_and_reveals_nothing(event, client, email):
    client.post(register_url(event), form_data(name="Ana López", affiliation="Secret Lab"))
    # Past the resend rate limit, so a second confirmation is queued.
    OutgoingMail.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))

    response = client.post(register_url(event), form_data(email=email, name="Intruder"), follow=True)

    page = text(response)
    assert "You are already registered" in page
    assert "Ana López" not in page
    assert "Secret Lab" not in page
    assert "/r/" not in page
    assert Registration.objects.count() == 1
    assert Registration.objects.get().outgoing_mails.filter(kind=MailKind.RESEND).count() == 1


def test_refusal_is_shown_as_a_form_error_and_changes_nothing(make_event, sign_up, client):
    event = make_event(capacity=1, waitlist_enabled=False)
    sign_up(event)

    response = client.post(register_url(event), form_data())

    assert response.status_code == 400
    assert "Sorry, this talk is full." in text(response)
    assert Registration.objects.count() == 1


def test_invalid_form_keeps_values_and_shows_field_errors(event, client):
    response = client.post(register_url(event), form_data(email="nope", consent=""))

    page = text(response)
    assert response.status_code == 400
    assert "Enter a valid email address." in page
    assert "Please agree to the privacy notice" in page
    assert 'value="Ana López"' in page
    assert not Registration.objects.exists()


def test_honeypot_submission_changes_nothing(event, client):
    response = client.post(register_url(event), form_data(website="http://spam.example"))

    assert response.status_code == 400
    assert "filled in automatically" in text(response)
    assert not Registration.objects.exists()


def test_the_address_of_the_error_page_opened_again_leads_to_the_form_on_the_talk_page(event, client):
    client.post(register_url(event), form_data(email="nope"))

    # A reload, the history, a bookmark: the same address, by GET (or HEAD).
    for response in (client.get(register_url(event)), client.head(register_url(event))):
        assert response.status_code == 302
        assert response["Location"] == f"{event.get_absolute_url()}#register"
    page = client.get(register_url(event), follow=True)
    assert page.status_code == 200
    assert 'id="register"' in page.content.decode()
    assert not Registration.objects.exists()


def test_opening_the_register_address_is_no_sign_up_for_the_rate_limit(event, client, settings):
    settings.REGISTRATION_RATE_LIMIT = "1/h"

    for _ in range(3):
        client.get(register_url(event))

    assert client.post(register_url(event), form_data()).status_code == 302
    assert Registration.objects.count() == 1


def test_switching_language_on_the_error_page_ends_on_the_talk_page_in_that_language(event, client):
    page = client.post(register_url(event), form_data(email="nope"))
    assert f'name="next" value="{register_url(event)}"' in page.content.decode()

    response = client.post(
        "/language/", {"language": "es", "next": register_url(event)}, HTTP_ORIGIN="http://testserver", follow=True
    )

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == f"{event.get_absolute_url()}#register"
    assert '<html lang="es">' in response.content.decode()
    assert "Inscripción" in text(response)


def test_opening_the_register_address_of_an_unknown_or_draft_talk_is_404(make_event, client):
    draft = make_event(status=Event.Status.DRAFT)

    assert client.get("/events/no-such-talk/register/").status_code == 404
    assert client.get(register_url(draft)).status_code == 404


def test_register_needs_csrf_token(event):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(register_url(event), form_data())

    assert response.status_code == 403
    assert not Registration.objects.exists()


def test_register_for_draft_is_404_for_the_public(make_event, client):
    event = make_event(status=Event.Status.DRAFT)

    assert client.post(register_url(event), form_data()).status_code == 404
    assert not Registration.objects.exists()


def test_register_for_unknown_talk_is_404(client):
    assert client.post("/events/no-such-talk/register/", form_data()).status_code == 404


def test_register_again_after_cancelling(event, client):
    client.post(register_url(event), form_data())
    first = Registration.objects.get()
    client.post(reverse("registrations:cancel", kwargs={"token": first.token}))

    response = client.post(register_url(event), form_data())

    assert response.status_code == 302
    assert Registration.objects.active().get() != first


# Hostile input: never a 500, always escaped


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": "Zoë Ñúñez"},
        {"name": "王小明"},
        {"name": "محمد الأحمد", "affiliation": "جامعة القاهرة"},
        {"name": "דוד כהן", "affiliation": "האוניברסיטה העברית"},
        {"name": "x" * 10_240},
        {"affiliation": "y" * 10_240},
        {"email": "a" * 10_240 + "@example.edu"},
        {"name": "Ana\r\nBcc: victim@example.com"},
        {"name": "Ana\x00López"},
        {"email": "ana+seminar@bücher.example"},
        {"email": "ana+seminar@example.edu"},
        {"position": "x" * 10_240},
        {"name": "<script>alert(1)</script>", "affiliation": "<img src=x onerror=alert(1)>"},
        {"website": "<script>"},
    ],
)
def test_hostile_input_never_gives_a_server_error(event, client, overrides):
    response = client.post(register_url(event), form_data(**overrides), follow=True)

    assert response.status_code in (200, 400)
    assert "<script>alert" not in response.content.decode()
    assert "<img src=x" not in response.content.decode()


def test_an_address_sent_as_a_browser_sends_it_is_shown_as_typed(event, client):
    # Chromium and Firefox post <input type="email"> with an international domain in ASCII.
    response = client.post(register_url(event), form_data(email="zoe@xn--r8jz45g.jp"), follow=True)

    assert "A confirmation email is on its way to zoe@例え.jp." in text(response)
    assert "xn--" not in response.content.decode()
    assert client.post(register_url(event), form_data(email="zoe@例え.jp")).url == reverse(
        "registrations:already_registered", kwargs={"slug": event.slug}
    )
    assert Registration.objects.get().email == "zoe@xn--r8jz45g.jp"


@pytest.mark.parametrize(
    ("name", "email"),
    [("Zoë Ñúñez", "zoe@example.edu"), ("王小明", "wang@example.edu"), ("محمد الأحمد", "ana+seminar@bücher.example")],
)
def test_unicode_registrations_round_trip(event, client, name, email):
    response = client.post(register_url(event), form_data(name=name, email=email), follow=True)

    assert response.status_code == 200
    assert name in response.content.decode()
    # The page shows the address as typed; it is stored with its domain in ASCII, as mail servers read it.
    assert f"A confirmation email is on its way to {email}." in text(response)
    assert "xn--" not in response.content.decode()
    assert Registration.objects.get().email == email.replace("bücher", "xn--bcher-kva")


def test_script_in_name_is_shown_escaped_on_the_manage_page(event, client):
    response = client.post(
        register_url(event),
        form_data(name="<script>alert(1)</script>", affiliation='"><b>bold</b>'),
        follow=True,
    )

    page = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page
    assert "&quot;&gt;&lt;b&gt;bold&lt;/b&gt;" in page


def test_line_break_in_name_is_a_clear_error(event, client):
    response = client.post(register_url(event), form_data(name="Ana\r\nBcc: victim@example.com"))

    assert response.status_code == 400
    assert "without line breaks" in text(response)
    assert not Registration.objects.exists()


def test_a_name_that_would_turn_the_page_around_is_refused_with_one_clear_message(event, client):
    for name in ("\u202eAna López", "Ana\x00López"):
        response = client.post(register_url(event), form_data(name=name))

        assert response.status_code == 400
        assert text(response).count("Please write this on one line, without line breaks or control characters.") == 2
        assert "Null characters are not allowed." not in text(response)
    assert not Registration.objects.exists()


# The registrant's own page


def test_manage_page_is_private_and_not_cached(event, sign_up, client):
    registration = sign_up(event)

    response = client.get(registration.get_absolute_url())

    assert response.status_code == 200
    assert "private" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"
    assert "Your seat is confirmed" in text(response)
    assert "Thank you" not in text(response)


def test_the_registrants_page_of_a_cancelled_talk_says_why(event, sign_up, client):
    registration = sign_up(event)
    cancel_event(event=event, note="The speaker is ill <i>again</i>.\nWe will reschedule in spring.")

    page = client.get(registration.get_absolute_url()).content.decode()

    assert "This talk was cancelled." in page
    assert "The speaker is ill &lt;i&gt;again&lt;/i&gt;.<br>We will reschedule in spring." in page


def test_the_confirmation_email_is_announced_right_after_registering_only(event, client):
    response = client.post(register_url(event), form_data(email="zoe@example.edu"), follow=True)
    assert "A confirmation email is on its way to zoe@example.edu." in text(response)

    # Weeks later, from the link in the email: nothing is on its way any more.
    later = client.get(Registration.objects.get().get_absolute_url())

    assert "Your seat is confirmed" in text(later)
    assert "Ana López is registered." in visible_text(later)
    assert "on its way" not in text(later)


def test_a_name_ending_in_a_period_gets_no_second_one(event, client):
    response = client.post(register_url(event), form_data(name="Zoë O'Brien, Jr."), follow=True)

    assert "Zoë O&#x27;Brien, Jr. is registered." in text(response)
    assert ".." not in visible_text(response)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
        lambda token: token.split(":")[0],
        lambda token: "x" + token,
        lambda token: token + ":extra",
        lambda token: "%00%ff",
        lambda token: "a" * 5000,
    ],
)
def test_tampered_token_says_the_link_does_not_work(event, sign_up, client, mangle):
    registration = sign_up(event)
    token = mangle(registration.token)

    for response in (
        client.get(f"/r/{token}/"),
        client.get(f"/r/{token}/cancel/"),
        client.post(f"/r/{token}/cancel/"),
        client.post(f"/r/{token}/attendance/", {"attendance": "online"}),
    ):
        assert response.status_code == 404
        assert "This link does not work" in text(response)
        assert "Get the links to my registrations again" in text(response)
        assert "The talk may have been moved" not in text(response)
    # Files: a plain 404.
    assert client.get(f"/r/{token}/ticket.png").status_code == 404
    assert client.get(f"/calendar/{mangle(registration.invite_token)}/invite.ics").status_code == 404
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED


def test_token_of_a_deleted_registration_says_the_link_does_not_work(event, sign_up, client):
    registration = sign_up(event)
    token = registration.token
    Registration.objects.filter(pk=registration.pk).delete()

    response = client.get(f"/r/{token}/")

    assert response.status_code == 404
    assert "This link does not work" in text(response)


def test_cancel_asks_for_confirmation_then_cancels_and_promotes(make_event, sign_up, client):
    event = make_event(capacity=1)
    registration = sign_up(event)
    waiting = sign_up(event)
    cancel_url = reverse("registrations:cancel", kwargs={"token": registration.token})

    confirm = client.get(cancel_url)
    assert confirm.status_code == 200
    assert "Cancel your registration?" in text(confirm)
    assert "no-store" in confirm["Cache-Control"]
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED

    response = client.post(cancel_url, follow=True)

    assert "Your registration is cancelled" in text(response)
    assert "This registration is cancelled" in text(response)
    registration.refresh_from_db()
    waiting.refresh_from_db()
    assert registration.status == Registration.Status.CANCELLED
    assert waiting.status == Registration.Status.CONFIRMED


def test_the_cancel_page_speaks_of_the_waiting_list_only_when_someone_waits(make_event, sign_up, client):
    event = make_event(capacity=2, attendance_mode="hybrid", stream_url="https://utexas.zoom.us/j/1", online_capacity=1)
    registration = sign_up(event)
    cancel_url = reverse("registrations:cancel", kwargs={"token": registration.token})
    # Someone waits online: not for this seat in the room.
    sign_up(event, attendance="online")
    sign_up(event, attendance="online")

    alone = visible_text(client.get(cancel_url))
    sign_up(event)
    sign_up(event)  # the room is full now: this one waits
    waited_for = visible_text(client.get(cancel_url))

    assert "Your seat becomes free for someone else." in alone
    assert "waiting list" not in alone
    assert "Your seat goes to the next person on the waiting list." in waited_for


def test_leave_the_waiting_list(make_event, sign_up, client):
    event = make_event(capacity=1)
    sign_up(event)
    waiting = sign_up(event)
    cancel_url = reverse("registrations:cancel", kwargs={"token": waiting.token})

    assert "Leave the waiting list?" in text(client.get(cancel_url))
    response = client.post(cancel_url, follow=True)

    assert "You left the waiting list." in text(response)
    waiting.refresh_from_db()
    assert waiting.status == Registration.Status.CANCELLED


def test_cancelling_twice_stays_cancelled(event, sign_up, client):
    registration = sign_up(event)
    cancel_url = reverse("registrations:cancel", kwargs={"token": registration.token})
    client.post(cancel_url)

    response = client.post(cancel_url, follow=True)

    assert "already cancelled" in text(response)
    event.refresh_from_db()
    assert event.seats_taken == 0
    assert Registration.objects.get().log.filter(action="cancelled").count() == 1


def test_cancel_after_the_talk_is_refused_with_a_message(event, sign_up, client):
    registration = sign_up(event)
    Event.objects.filter(pk=event.pk).update(
        start=timezone.now() - datetime.timedelta(hours=2), end=timezone.now() - datetime.timedelta(hours=1)
    )
    cancel_url = reverse("registrations:cancel", kwargs={"token": registration.token})

    response = client.post(cancel_url, follow=True)

    assert response.status_code == 200
    assert "This talk has already taken place." in text(response)
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED


def test_cancel_post_needs_csrf(event, sign_up):
    from django.test import Client

    registration = sign_up(event)
    cancel_url = reverse("registrations:cancel", kwargs={"token": registration.token})

    assert Client(enforce_csrf_checks=True).post(cancel_url).status_code == 403
    registration.refresh_from_db()
    assert registration.is_active


def test_manage_page_shows_no_other_registrant(make_event, sign_up, client):
    event = make_event(capacity=1)
    mine = sign_up(event, name="Mine")
    sign_up(event, name="Someone Else", email="else@example.edu")

    page = client.get(mine.get_absolute_url()).content.decode()

    assert "Someone Else" not in page
    assert "else@example.edu" not in page
    assert set(re.findall(r"/r/([^/\"]+)/", page)) == {mine.token}


# Query counts stay constant as registrations grow


@pytest.mark.parametrize("registrations", [1, 30])
def test_talk_page_query_count_is_constant(
    make_event, sign_up, client, django_assert_num_queries, registrations, settings
):
    event = make_event(capacity=40)
    for _ in range(registrations):
        sign_up(event)
    settings.PAGE_CACHE = False  # what rendering the page costs

    with django_assert_num_queries(TALK_PAGE_QUERIES):
        response = client.get(event.get_absolute_url())

    assert response.status_code == 200


@pytest.mark.parametrize("registrations", [1, 30])
def test_talk_page_from_the_page_cache_asks_the_database_nothing(
    make_event, sign_up, client, django_assert_num_queries, registrations
):
    event = make_event(capacity=40)
    for _ in range(registrations):
        sign_up(event)
    client.get(event.get_absolute_url())

    # The page and the tokens of what it shows are in the worker's memory, which hears of
    # every change: nothing of the talk is queried, nor the database cache.
    with django_assert_num_queries(0):
        response = client.get(event.get_absolute_url())

    assert response.status_code == 200
    assert f"{40 - registrations} of 40 seats left" in response.content.decode()


@pytest.mark.parametrize("registrations", [1, 30])
def test_register_post_query_count_is_constant(make_event, sign_up, client, django_assert_num_queries, registrations):
    event = make_event(capacity=40)
    for _ in range(registrations):
        sign_up(event)

    with django_assert_num_queries(REGISTER_POST_QUERIES):
        response = client.post(register_url(event), form_data(email="new@example.edu"))

    assert response.status_code == 302


def test_the_addresss_count_is_written_in_the_transaction_of_its_sign_up(make_event, client, django_assert_num_queries):
    event = make_event(capacity=40)
    ContentType.objects.get_for_model(Registration)  # known already in a running site

    with django_assert_num_queries(REGISTER_POST_QUERIES) as queries:
        client.post(register_url(event), form_data(email="new@example.edu"))

    statements = [query["sql"] for query in queries.captured_queries]
    begins = statements.index(next(sql for sql in statements if sql.startswith("SAVEPOINT")))
    # A counter's upsert writes '1' for a new key (on PostgreSQL a prepared statement shows as QUERY = '...').
    counter = re.compile(r"""INSERT INTO "django_cache" .* VALUES \([^,]*, \\?'1\\?',""")
    counters = [n for n, sql in enumerate(statements) if counter.search(sql)]
    # The two rate limits count before the view; the sign-ups per address (HOLD_AFTER's) in its transaction.
    assert len(counters) == 3
    assert counters[:2] < [begins] < counters[2:]


@pytest.mark.parametrize("waiting", [False, True])
def test_posting_an_address_again_does_not_bring_the_sender_closer_to_hold_after(make_event, client, settings, waiting):
    settings.HOLD_AFTER = "2"
    event = make_event(capacity=0 if waiting else 40, waitlist_enabled=True)

    client.post(register_url(event), form_data(email="ana@example.edu"))
    # A double click, or the same person again: no new sign-up, so not counted as one.
    assert client.post(register_url(event), form_data(email="ANA@example.edu")).status_code == 302
    client.post(register_url(event), form_data(email="ben@example.edu"))

    assert not Registration.objects.filter(event=event).awaiting_confirmation().exists()
    client.post(register_url(event), form_data(email="cy@example.edu"))
    (third,) = Registration.objects.filter(event=event).awaiting_confirmation()
    assert third.email == "cy@example.edu"


@pytest.mark.parametrize("waiting", [False, True])
def test_a_held_sign_up_costs_what_a_confirmed_one_does(
    make_event, sign_up, client, django_assert_num_queries, waiting
):
    # The button's message is sent once per hold (a key the database keeps unique); a registration
    # made in the same transaction has no message yet, so that key needs no savepoint around it.
    event = make_event(capacity=1, confirm_by_email=True)
    # As in a running site, the registrations' content type (the outbox row's "about") is known already.
    ContentType.objects.get_for_model(Registration)
    if waiting:
        sign_up(event)

    with django_assert_num_queries(REGISTER_POST_QUERIES) as queries:
        response = client.post(register_url(event), form_data(email="new@example.edu"))

    assert response.status_code == 302
    assert not [query for query in queries.captured_queries if "SAVEPOINT" in query["sql"]][1:-1]
    registration = Registration.objects.get(email="new@example.edu")
    assert registration.awaits_confirmation
    assert registration.outgoing_mails.get().kind == MailKind.HELD


@pytest.mark.parametrize(("answered", "more"), [(False, 1), (True, 3)])
def test_a_talk_s_questions_cost_queries_only_where_it_asks_some(
    make_event, ask, client, django_assert_num_queries, answered, more
):
    event = make_event(capacity=40)
    question = ask(event, "Dietary needs?", required=False)

    # Its questions for the form; answered, the answers checked against them and written.
    with django_assert_num_queries(REGISTER_POST_QUERIES + more):
        response = client.post(
            register_url(event),
            form_data(email="new@example.edu", **{f"question_{question.pk}": "None" if answered else ""}),
        )

    assert response.status_code == 302
    assert Answer.objects.filter(registration__email="new@example.edu").count() == int(answered)


@pytest.mark.parametrize("limit", [None, 5])
def test_joining_the_waiting_list_counts_it_only_when_it_has_a_limit(
    make_event, sign_up, client, django_assert_num_queries, limit
):
    event = make_event(capacity=1, waitlist_enabled=True, waitlist_limit=limit)
    sign_up(event)

    # The lock taken first instead of the seat's UPDATE last: an UPDATE that checks the talk is still
    # full, or with a limit a SELECT, and the waiting list counted to hold it to its limit.
    with django_assert_num_queries(REGISTER_POST_QUERIES + (limit is not None)):
        response = client.post(register_url(event), form_data(email="new@example.edu"))

    assert response.status_code == 302
    assert Registration.objects.get(email="new@example.edu").status == Registration.Status.WAITLISTED


@pytest.mark.parametrize("waiting", [0, 20])
def test_cancel_page_query_count_is_constant(make_event, sign_up, client, django_assert_num_queries, waiting):
    event = make_event(capacity=1)
    registration = sign_up(event)
    for _ in range(waiting):
        sign_up(event)

    with django_assert_num_queries(CANCEL_PAGE_QUERIES):
        response = client.get(reverse("registrations:cancel", kwargs={"token": registration.token}))

    assert response.status_code == 200


# Talk page: the event with series and venue, its speakers, its questions, the panel's waiting-list count,
# its materials.
TALK_PAGE_QUERIES = 5
# Two counters in the database cache (the rate limits per address and talk and per email
# address), one upsert each. The talk (its questions in the same query: this one asks none);
# then the transaction (a savepoint inside the test's own): the third counter (the sign-ups per
# address and talk that HOLD_AFTER reads, one upsert), insert (no look-up of the address before
# it: the unique constraint answers that), history entry, outbox row (on PostgreSQL these three
# are one statement), the seat taken last (one conditional UPDATE, the talk's row lock), the talk
# page's new token in the database cache (one upsert), release.
REGISTER_POST_QUERIES = 3 * 1 + 1 + 4 + (1 if connection.vendor == "postgresql" else 3)
# The registration with its talk; whether anyone waits for the seat given up (what the page says of it).
CANCEL_PAGE_QUERIES = 2


# Lost your link?


def lost_link(client, email, **extra):
    return client.post(reverse("registrations:lost_link"), {"email": email}, **extra)


def long_ago(registration):
    # Past the outbox's resend interval, which holds back a link confirmed minutes ago.
    OutgoingMail.objects.filter(registration=registration).update(
        created_at=timezone.now() - datetime.timedelta(hours=1)
    )


def test_lost_link_page_is_linked_from_the_talk_page(client, event):
    response = client.get(event.get_absolute_url())
    assert reverse("registrations:lost_link") in response.content.decode()
    assert "Email me my links" in text(client.get(reverse("registrations:lost_link")))


def test_lost_link_emails_every_active_link_for_upcoming_talks_and_one_message_for_past_ones(
    client, make_event, sign_up, django_capture_on_commit_callbacks
):
    first, second = make_event(), make_event()
    over = make_event(
        start=timezone.now() - datetime.timedelta(days=2), title='Ünïcode, commas & <script>alert("x")</script>'
    )
    mine = [sign_up(first, email="ana@ut.edu"), sign_up(second, email="Ana@UT.edu")]
    attended = sign_up(over, email="ana@ut.edu", now=over.start - datetime.timedelta(days=1))
    left = sign_up(make_event(), email="ana@ut.edu")
    services.cancel_registration(registration=left)
    sign_up(first, email="someone.else@ut.edu")
    for registration in Registration.objects.all():
        long_ago(registration)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = lost_link(client, " ANA@ut.edu ")

    assert response.status_code == 302
    assert response["Location"] == reverse("registrations:lost_link_sent")
    messages = sent()
    assert len(messages) == 3
    assert {message["To"].addresses[0].addr_spec.lower() for message in messages} == {"ana@ut.edu"}
    (past,) = [message for message in messages if message["Subject"] == "Your links to past talks"]
    bodies = [text_body(message) for message in messages if message is not past]
    for registration in mine:
        assert sum(registration.manage_url in body for body in bodies) == 1
    assert all("here is the link to your registration again" in body for body in bodies)
    assert left.manage_url not in " ".join(bodies)
    # The past talk: its page's link, its title as written in the text and escaped in the HTML, no invite.
    assert attended.manage_url in text_body(past) and over.title in text_body(past)
    assert attended.manage_url not in " ".join(bodies)
    assert "<script>" not in html_body(past)
    assert "&lt;script&gt;" in html_body(past) and f'href="{attended.manage_url}"' in html_body(past)
    assert invite_parts(past) == []


def test_lost_link_finds_an_address_at_an_international_domain_however_it_is_spelled(
    client, event, django_capture_on_commit_callbacks
):
    # Registered from a browser, which sends the domain in ASCII; asked for with the domain as typed.
    client.post(register_url(event), form_data(email="zoe@xn--r8jz45g.jp"))
    long_ago(Registration.objects.get())
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        lost_link(client, "Zoe@例え.jp")

    [message] = sent()
    assert message["To"].addresses[0].domain == "xn--r8jz45g.jp"
    assert Registration.objects.get().manage_url in text_body(message)


def test_lost_link_answers_the_same_for_an_unknown_address(client, event, sign_up):
    sign_up(event, email="ana@ut.edu")
    long_ago(Registration.objects.get())

    known = lost_link(client, "ana@ut.edu", follow=True)
    unknown = lost_link(client, "nobody@ut.edu", follow=True)

    assert known.status_code == unknown.status_code == 200
    assert text(known) == text(unknown)
    assert "If that address is registered for an upcoming talk" in text(unknown)
    assert OutgoingMail.objects.filter(kind=MailKind.RESEND).count() == 1


@pytest.mark.parametrize("email", ["", "not an address", "a@b\r\nBcc: x@y.z", "x" * 10_000 + "@ut.edu"])
def test_lost_link_with_a_bad_address_shows_the_form_again_and_sends_nothing(client, email):
    response = lost_link(client, email)

    assert response.status_code == 400
    assert "Email me my links" in text(response)
    assert 'class="errorlist' in response.content.decode()
    assert OutgoingMail.objects.count() == 0


# Questions on the form


@pytest.fixture
def lunch_talk(make_event, ask):
    event = make_event()
    ask(event, "Dietary restrictions for lunch?", help_text="We order food for everyone who registers.")
    ask(event, "Which session?", kind="single_choice", choices=["Morning", "Afternoon"], required=True)
    return event


def question_data(event, *values):
    return {f"question_{question.pk}": value for question, value in zip(event.questions.all(), values, strict=True)}


def test_talk_page_asks_the_talks_questions(lunch_talk, client):
    page = client.get(lunch_talk.get_absolute_url()).content.decode()
    diet, session = lunch_talk.questions.all()

    assert f'<label for="id_question_{diet.pk}">Dietary restrictions for lunch?</label>' in page
    assert "We order food for everyone who registers." in page
    # A group of radio buttons is a fieldset named by its legend.
    assert re.search(r"<fieldset[^>]*>\s*<legend>Which session\?</legend>", page)
    assert f'value="Afternoon" required id="id_question_{session.pk}_1"' in page


def test_answers_are_saved_and_shown_to_the_registrant(lunch_talk, client):
    response = client.post(
        register_url(lunch_talk), form_data() | question_data(lunch_talk, "<b>No nuts</b>", "Morning")
    )

    registration = Registration.objects.get()
    assert response.status_code == 302
    assert {answer.value for answer in registration.answers.all()} == {"<b>No nuts</b>", "Morning"}
    page = client.get(registration.get_absolute_url()).content.decode()
    assert "<dt>Dietary restrictions for lunch?</dt><dd>&lt;b&gt;No nuts&lt;/b&gt;</dd>" in page
    assert "<dt>Which session?</dt><dd>Morning</dd>" in page


def test_a_forged_choice_is_refused_with_a_clear_message_and_changes_nothing(lunch_talk, client):
    response = client.post(register_url(lunch_talk), form_data() | question_data(lunch_talk, "", "Midnight buffet"))

    assert response.status_code == 400
    page = visible_text(response)
    assert "That is not one of the answers offered. Please choose from the list." in page
    assert "Midnight buffet" not in page
    assert not Registration.objects.exists()
    assert not Answer.objects.exists()
    assert not OutgoingMail.objects.exists()


def test_errors_are_summarized_with_links_to_their_fields(lunch_talk, client):
    session = lunch_talk.questions.get(label="Which session?")

    response = client.post(register_url(lunch_talk), form_data(email="nope", consent=""))

    assert response.status_code == 400
    page = response.content.decode()
    summary = re.search(
        r'<div class="form-errors" id="form-errors" role="alert" tabindex="-1" autofocus.*?</div>', page, re.S
    )
    assert summary
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary.group())
    assert links == [
        ("id_email", "Email: Enter a valid email address."),
        # A label that ends with its own question mark takes no colon after it.
        (f"id_question_{session.pk}_0", "Which session? Please answer this question."),
        ("id_consent", "Privacy notice: Please agree to the privacy notice so we can keep your registration."),
    ]
    # Each field names its own error for screen readers.
    assert 'aria-describedby="id_email_helptext id_email_error"' in page
    assert f'<fieldset aria-describedby="id_question_{session.pk}_error">' in page


# The registrant's own calendar entry


def test_registrants_page_links_their_own_invite_with_the_same_uid_and_current_sequence(
    client, event, sign_up, django_capture_on_commit_callbacks
):
    import icalendar

    from registrations.invites import invite_uid

    with django_capture_on_commit_callbacks(execute=True):
        registration = sign_up(event, email="ana@example.edu")
    Registration.objects.filter(pk=registration.pk).update(invite_sequence=3)
    page = client.get(registration.get_absolute_url()).content.decode()
    link = reverse("registrations:invite_ics", kwargs={"token": registration.invite_token})
    assert f'href="{link}"' in page
    assert "keeps it current" in page

    response = client.get(link)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    (vevent,) = calendar.walk("VEVENT")
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert (str(vevent["UID"]), vevent["SEQUENCE"]) == (invite_uid(registration), 3)
    assert "ATTENDEE" not in vevent
    # The emailed invite names the same file.
    assert registration.invite_url.endswith(link)
    assert registration.invite_url in text_body(sent()[0])


def test_the_invite_link_can_do_nothing_else_and_the_manage_link_is_no_invite_link(client, event, sign_up):
    registration = sign_up(event)
    invite_link = reverse("registrations:invite_ics", kwargs={"token": registration.invite_token})

    assert registration.invite_token != registration.token
    assert client.get(reverse("registrations:manage", kwargs={"token": registration.invite_token})).status_code == 404
    assert client.post(reverse("registrations:cancel", kwargs={"token": registration.invite_token})).status_code == 404
    assert client.get(reverse("registrations:invite_ics", kwargs={"token": registration.token})).status_code == 404
    assert client.get(invite_link[:-12] + "x" + invite_link[-11:]).status_code == 404
    assert Registration.objects.get(pk=registration.pk).status == Registration.Status.CONFIRMED


def test_a_cancelled_registrations_file_removes_the_entry(client, event, sign_up):
    import icalendar

    registration = sign_up(event)
    services.cancel_registration(registration=registration)
    response = client.get(reverse("registrations:invite_ics", kwargs={"token": registration.invite_token}))

    (vevent,) = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert "Your calendar" not in client.get(registration.get_absolute_url()).content.decode()


# Hybrid talks on the talk page and the registrant's page


@pytest.fixture
def hybrid_talk(make_event):
    return make_event(attendance_mode="hybrid", capacity=1, stream_url="https://utexas.zoom.us/j/123")


def test_hybrid_talk_page_offers_both_ways_with_their_places(hybrid_talk, sign_up, client):
    page = text(client.get(hybrid_talk.get_absolute_url()))

    assert "In the room: 1 of 1 seats left" in page
    assert "Online: open to everyone" in page
    assert "<legend>How will you attend?</legend>" in page
    assert 'value="in_person" required id="id_attendance_0" checked' in page
    assert "In person, in GDC 6.302" in page
    assert "Online: we send you the link" in page

    sign_up(hybrid_talk)
    page = text(client.get(hybrid_talk.get_absolute_url()))
    assert "Full – join the waiting list" in page
    # With the room full, online (which has places) is what the form suggests.
    assert 'value="online" required id="id_attendance_1" checked' in page


def test_hybrid_talk_page_counts_down_limited_online_places(make_event, sign_up, client):
    event = make_event(attendance_mode="hybrid", capacity=3, online_capacity=2, stream_url="https://utexas.zoom.us/j/1")
    sign_up(event, attendance="online")

    page = text(client.get(event.get_absolute_url()))

    assert "In the room: 3 of 3 seats left" in page
    assert "Online: 1 of 2 places left" in page
    assert "zoom.us" not in page


def test_registering_online_for_a_hybrid_talk(hybrid_talk, client):
    response = client.post(register_url(hybrid_talk), form_data(attendance="online"))

    registration = Registration.objects.get()
    assert response.status_code == 302
    assert (registration.attendance, registration.status) == ("online", "confirmed")
    page = text(client.get(registration.get_absolute_url()))
    assert "Thank you" not in page and "Your online place is confirmed" in page
    assert 'href="https://utexas.zoom.us/j/123"' in page


@pytest.mark.parametrize(
    ("value", "message"),
    [("", "Please choose how you will attend."), ("both", "Please choose in person or online.")],
)
def test_a_hybrid_registration_needs_a_valid_way_to_attend(hybrid_talk, client, value, message):
    response = client.post(register_url(hybrid_talk), form_data(attendance=value))

    assert response.status_code == 400
    assert message in text(response)
    assert not Registration.objects.exists()


def test_online_only_talk_registers_online_without_asking(make_event, client):
    event = make_event(attendance_mode="online")

    page = text(client.get(event.get_absolute_url()))
    client.post(register_url(event), form_data())

    assert 'name="attendance"' not in page
    assert "Online: open to everyone" in page
    assert "Registrants get the link to join." in page
    assert Registration.objects.get().attendance == "online"


def test_someone_waiting_for_the_room_switches_online_from_their_page(hybrid_talk, sign_up, client):
    sign_up(hybrid_talk)
    waiting = sign_up(hybrid_talk)
    switch_url = reverse("registrations:switch_attendance", args=[waiting.token])

    page = text(client.get(waiting.get_absolute_url()))
    assert "The room is full, but you can attend online right away." in page
    assert client.get(switch_url).status_code == 405
    response = client.post(switch_url, {"attendance": "online"}, follow=True)

    waiting.refresh_from_db()
    assert (waiting.attendance, waiting.status) == ("online", "confirmed")
    assert "You now attend online. The confirmation is on its way." in text(response)
    assert "Your online place is confirmed" in text(response)
    # The room is still full: no way back yet.
    assert "Take a seat in the room" not in text(response)


def test_the_offer_to_attend_online_speaks_of_the_next_person_only_when_someone_waits(hybrid_talk, sign_up, client):
    registration = sign_up(hybrid_talk)

    alone = visible_text(client.get(registration.get_absolute_url()))
    sign_up(hybrid_talk)  # waits for the room
    waited_for = visible_text(client.get(registration.get_absolute_url()))

    assert "Attend online instead?" in alone and "Your seat becomes free for someone else." in alone
    assert "waiting" not in alone
    assert "Your seat goes to the next person waiting for one." in waited_for


def test_a_forged_switch_changes_nothing(hybrid_talk, sign_up, client):
    registration = sign_up(hybrid_talk)

    response = client.post(
        reverse("registrations:switch_attendance", args=[registration.token]), {"attendance": "teleport"}, follow=True
    )

    assert "Please choose in person or online." in text(response)
    registration.refresh_from_db()
    assert registration.attendance == "in_person"
    assert client.post(reverse("registrations:switch_attendance", args=["forged-token"])).status_code == 404


@pytest.mark.parametrize(("taken", "counted"), [(0, 0), (20, 0), (21, 1)])
def test_the_demand_rule_counts_recent_sign_ups_only_past_its_share(
    make_event, client, django_assert_num_queries, settings, taken, counted
):
    settings.HOLD_DEMAND = "50%/10m"
    event = make_event(capacity=40)
    Event.objects.filter(pk=event.pk).update(seats_taken=taken)

    # Fewer places taken than the share cannot be a rush, whenever they were taken: nothing to count.
    # Past it, the recent sign-ups of the talk are counted once, outside the talk's lock.
    with django_assert_num_queries(REGISTER_POST_QUERIES + counted):
        response = client.post(register_url(event), form_data(email="new@example.edu"))

    assert response.status_code == 302
    # The 21 taken are no registrations of this test: nothing recent, no rush.
    assert Registration.objects.get(email="new@example.edu").status == Registration.Status.CONFIRMED
