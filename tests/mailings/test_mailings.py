import pytest
from django.core import mail
from django.urls import reverse

from events.models import Series
from mailings import services
from mailings.models import Mailing
from outbox.models import OutgoingMail
from registrations import services as registrations
from registrations.models import Registration
from tests.mime import sent, text_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def talk(make_event, sign_up):
    """Two confirmed (one checked in), one waiting, one cancelled, one erased."""
    event = make_event(capacity=3)
    people = {
        "ana": sign_up(event, name="Ana López", email="ana@example.edu"),
        "bob": sign_up(event, name="Bob, Jr.", email="bob@example.edu"),
        "gone": sign_up(event, name="Gone", email="gone@example.edu"),
        "wait": sign_up(event, name="Wait", email="wait@example.edu"),
    }
    registrations.cancel_registration(registration=people["gone"])  # Wait moves up: three confirmed now
    people["erased"] = Registration.objects.get(pk=people["wait"].pk)
    registrations.erase_personal_data(registrations=[people["erased"]])  # frees the seat again
    people["late"] = sign_up(event, name="Late", email="late@example.edu")
    people["queue"] = sign_up(event, name="Queue", email="queue@example.edu")
    registrations.check_in(registration=people["ana"])
    mail.outbox.clear()
    OutgoingMail.objects.all().delete()
    return event, {key: Registration.objects.get(pk=r.pk) for key, r in people.items()}


def write(event, *audience, user=None):
    return Mailing.objects.create(
        event=event, subject="Lunch moved to the 5th floor", body="See you upstairs.", audience=list(audience)
    )


def recipients_of_sent_mail():
    return sorted(message["To"].addresses[0].addr_spec for message in sent())


def test_message_to_confirmed_reaches_exactly_the_confirmed_once_each(
    talk, admin_user, django_capture_on_commit_callbacks
):
    event, people = talk
    confirmed = sorted(Registration.objects.filter(event=event, status="confirmed").values_list("email", flat=True))
    mailing = write(event, "confirmed")

    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_mailing(mailing=mailing, actor=admin_user) == len(confirmed)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_mailing(mailing=mailing, actor=admin_user) == 0  # double click

    assert recipients_of_sent_mail() == confirmed
    assert "gone@example.edu" not in confirmed and people["erased"].email not in recipients_of_sent_mail()
    message = next(m for m in sent() if m["To"].addresses[0].addr_spec == "ana@example.edu")
    assert message["Subject"] == "Lunch moved to the 5th floor"
    body = text_body(message)
    assert "Ana López" in body and "See you upstairs." in body and people["ana"].manage_url in body


def test_a_retried_send_never_mails_anyone_twice(talk, admin_user, django_capture_on_commit_callbacks):
    event, _people = talk
    mailing = write(event, "confirmed", "waitlisted")
    with django_capture_on_commit_callbacks(execute=True):
        first = services.send_mailing(mailing=mailing, actor=admin_user)
    # As if the request were retried before the first one had marked the mailing sent.
    Mailing.objects.filter(pk=mailing.pk).update(sent_at=None, recipient_count=None)
    mailing.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        second = services.send_mailing(mailing=mailing, actor=admin_user)

    addresses = recipients_of_sent_mail()
    assert second == 0
    assert len(addresses) == len(set(addresses)) == first
    assert OutgoingMail.objects.filter(kind="mailings.message").count() == first


@pytest.mark.parametrize(
    ("audience", "expected"),
    [
        (["checked_in"], ["ana@example.edu"]),
        (["waitlisted"], ["queue@example.edu"]),
        (["held"], []),
        (["confirmed", "waitlisted", "checked_in", "no_show"], None),
    ],
)
def test_audiences_by_status_never_include_cancelled_or_erased(talk, admin_user, audience, expected):
    event, people = talk
    mailing = write(event, *audience)

    emails = sorted(mailing.recipients().values_list("email", flat=True))

    if expected is not None:
        assert emails == expected
    assert "gone@example.edu" not in emails
    assert people["erased"].email not in emails


def test_someone_who_cancels_after_the_send_gets_nothing(talk, admin_user, django_capture_on_commit_callbacks):
    event, people = talk
    mailing = write(event, "confirmed")
    services.send_mailing(mailing=mailing, actor=admin_user)  # queued, not yet delivered
    registrations.cancel_registration(registration=people["bob"])
    mail.outbox.clear()
    from outbox.delivery import deliver

    for row in OutgoingMail.objects.filter(kind="mailings.message"):
        deliver(mail_id=row.pk)

    assert "bob@example.edu" not in recipients_of_sent_mail()
    skipped = OutgoingMail.objects.get(kind="mailings.message", recipient="bob@example.edu")
    assert skipped.status == OutgoingMail.Status.SKIPPED


# The admin: compose, preview, test, send, history


def test_compose_from_the_talk_preview_test_and_send(
    admin_client, admin_user, talk, django_capture_on_commit_callbacks
):
    event, people = talk
    admin_user.email = "organizer@example.edu"
    admin_user.save()
    compose = admin_client.get(reverse("mailings:compose", args=[event.pk]))
    assert compose["Location"].endswith(f"?event={event.pk}")
    added = admin_client.post(
        reverse("admin:mailings_mailing_add"),
        {"event": event.pk, "audience": ["confirmed"], "subject": "Room change", "body": "Room 6.302 → 6.304"},
    )
    mailing = Mailing.objects.get()
    assert added.status_code == 302 and mailing.created_by == admin_user
    url = reverse("admin:mailings_mailing_change", args=[mailing.pk])

    preview = admin_client.get(url).content.decode()
    assert "Room 6.302 → 6.304" in preview and "As Ana López will see it" in preview
    delete_url = reverse("admin:mailings_mailing_delete", args=[mailing.pk])
    assert admin_client.get(delete_url).status_code == 200  # a draft can go
    assert OutgoingMail.objects.count() == 0

    data = {"event": event.pk, "audience": ["confirmed"], "subject": "Room change", "body": "Room 6.302 → 6.304"}
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(url, data | {"_send_test": "1"})
    assert recipients_of_sent_mail() == ["organizer@example.edu"]
    assert sent()[0]["Subject"] == "[Test] Room change"
    assert "Ana López" in text_body(sent()[0])
    # Not Ana's own link, which would let whoever the test is forwarded to cancel her seat.
    ana = people["ana"]
    assert ana.manage_url not in text_body(sent()[0]) and ana.token not in str(sent()[0])
    assert "(each recipient's own link)" in text_body(sent()[0])
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        first = admin_client.post(url, data | {"_send_now": "1"}, follow=True).content.decode()
        second = admin_client.post(url, data | {"_send_now": "1"}, follow=True).content.decode()

    confirmed = Registration.objects.filter(event=event, status="confirmed").count()
    assert f"Sent to {confirmed} registrants." in first
    assert "nobody got it twice" in second
    assert len(sent()) == confirmed
    mailing.refresh_from_db()
    assert (mailing.sent_by, mailing.recipient_count) == (admin_user, confirmed)
    history = admin_client.get(url).content.decode()
    assert 'name="subject"' not in history  # kept as sent
    assert f"{confirmed} sent, 0 waiting, 0 failed, 0 not sent, 0 bounced" in history
    assert admin_client.get(delete_url).status_code == 403  # what was sent stays
    assert Mailing.objects.filter(pk=mailing.pk).exists()
    assert admin_client.get(reverse("admin:mailings_mailing_changelist")).status_code == 200


def test_another_series_organizer_never_sees_or_sends_the_message(client, talk, make_team_member):
    event, _people = talk
    mailing = write(event, "confirmed")
    other = Series.objects.create(name="Other", slug="other", organizer_name="O", organizer_email="o@example.edu")
    client.force_login(make_team_member(other, "bob"))

    assert client.get(reverse("admin:mailings_mailing_change", args=[mailing.pk])).status_code == 404
    assert (
        client.post(reverse("admin:mailings_mailing_change", args=[mailing.pk]), {"_send_now": "1"}).status_code == 404
    )
    assert client.get(reverse("mailings:compose", args=[event.pk])).status_code == 404
    listing = client.get(reverse("admin:mailings_mailing_changelist"))
    assert list(listing.context["cl"].result_list) == []
    mailing.refresh_from_db()
    assert mailing.sent_at is None


def test_the_series_organizer_can_write_and_send(client, talk, series, make_team_member):
    event, _people = talk
    client.force_login(make_team_member(series, "alice"))
    response = client.post(
        reverse("admin:mailings_mailing_add"),
        {"event": event.pk, "audience": ["confirmed"], "subject": "Hi", "body": "Hello"},
    )
    assert response.status_code == 302


def test_a_message_about_an_online_talk_without_venue_says_online(
    make_event, sign_up, admin_user, django_capture_on_commit_callbacks
):
    event = make_event(venue=None, attendance_mode="online", stream_url="https://utexas.zoom.us/j/555")
    sign_up(event, attendance="online")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.send_mailing(mailing=write(event, "confirmed"), actor=admin_user)

    [message] = sent()
    body = text_body(message)
    assert ", Online" in body and "None" not in body


def test_people_whose_seat_is_held_until_confirmed_are_an_audience_of_their_own(make_event, sign_up):
    event = make_event(capacity=2)
    sign_up(event, email="ana@example.edu")
    sign_up(event, email="held@example.edu", signups_from_address=11)

    assert list(write(event, "held").recipients().values_list("email", flat=True)) == ["held@example.edu"]
    assert list(write(event, "confirmed").recipients().values_list("email", flat=True)) == ["ana@example.edu"]


def test_the_preview_shows_what_people_typed_as_text_never_as_markup(admin_client, make_event, sign_up):
    event = make_event()
    sign_up(event, name='<meta http-equiv="refresh" content="0;url=https://evil.example/">', email="m@example.edu")
    mailing = Mailing.objects.create(
        event=event, subject="<b>Room</b>", body="<script>alert(1)</script>", audience=["confirmed"]
    )

    page = admin_client.get(reverse("admin:mailings_mailing_change", args=[mailing.pk])).content.decode()

    assert "<meta http-equiv" not in page and "<script>alert(1)" not in page and "<b>Room</b>" not in page
    assert "&lt;meta http-equiv=&quot;refresh&quot;" in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_message_nobody_would_get_is_not_sent_and_stays_a_draft(admin_client, admin_user, talk):
    event, _people = talk
    mailing = write(event, "no_show")  # nobody was marked a no-show
    url = reverse("admin:mailings_mailing_change", args=[mailing.pk])

    page = admin_client.get(url).content.decode()
    assert "Nobody has the chosen status right now" in page and 'name="_send_now"' not in page
    with pytest.raises(services.MailingError) as refused:
        services.send_mailing(mailing=mailing, actor=admin_user)
    assert refused.value.code == "no_recipients"
    data = {"event": event.pk, "audience": ["no_show"], "subject": "S", "body": "B", "_send_now": "1"}
    answer = admin_client.post(url, data, follow=True).content.decode()

    assert "nothing was sent, and the message is kept unsent" in answer
    mailing.refresh_from_db()
    assert mailing.sent_at is None and not OutgoingMail.objects.exists()
    assert 'name="subject"' in admin_client.get(url).content.decode()  # still editable


def test_a_new_message_opens_on_its_preview_and_once_sent_names_its_audience(
    admin_client, admin_user, talk, django_capture_on_commit_callbacks
):
    event, _people = talk
    data = {"event": event.pk, "audience": ["confirmed", "waitlisted"], "subject": "Room", "body": "Upstairs"}

    saved = admin_client.post(reverse("admin:mailings_mailing_add"), data | {"_save": "Save"}, follow=True)

    mailing = Mailing.objects.get()
    assert saved.redirect_chain[-1][0] == reverse("admin:mailings_mailing_change", args=[mailing.pk])
    page = saved.content.decode()
    assert "Saved, not sent yet" in page and "As Ana López will see it" in page
    with django_capture_on_commit_callbacks(execute=True):
        services.send_mailing(mailing=mailing, actor=admin_user)
    history = admin_client.get(reverse("admin:mailings_mailing_change", args=[mailing.pk])).content.decode()
    assert "Confirmed, Waiting list" in history and '["confirmed"' not in history
    assert "View on site" not in history  # it would only reload this page
