import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from events.models import Series
from followers import emails as follower_emails
from followers.models import Follower
from mailings import emails as mailing_emails
from mailings.models import Mailing
from materials import emails as material_emails
from materials.models import Material
from outbox.models import OutgoingMail
from registrations.models import MailKind, Registration
from speaker_edits import emails as speaker_emails
from speaker_edits.models import SpeakerInvitation
from staff import emails as staff_emails
from staff.models import Invitation
from tests.html import change_form, change_list

from .conftest import NOTE

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:outbox_outgoingmail_changelist")


def make_mail(recipient="ana@example.edu", **fields):
    return OutgoingMail.objects.create(kind=NOTE, recipient=recipient, data={"name": "Ana"}, **fields)


def test_outbox_list_shows_failures_and_bounces(admin_client, note_kind):
    failed = make_mail(status=OutgoingMail.Status.FAILED, attempts=1, last_error="Recipients refused")
    make_mail("bo@example.edu", status=OutgoingMail.Status.SENT, bounced_at="2026-11-20T16:00:00Z")

    listing = admin_client.get(CHANGELIST)
    bounced = admin_client.get(CHANGELIST, {"bounced_at__isempty": "0"})
    detail = admin_client.get(reverse("admin:outbox_outgoingmail_change", args=[failed.pk]))

    assert listing.status_code == 200
    page = listing.content.decode()
    assert "ana@example.edu" in page and "Failed" in page and "Test note" in page
    assert "bo@example.edu" in bounced.content.decode()
    assert "ana@example.edu" not in bounced.content.decode()
    assert "Recipients refused" in detail.content.decode()


def test_the_list_writes_its_times_with_the_zone_and_sorts_by_them(admin_client, note_kind):
    queued = datetime.datetime(2026, 12, 15, 17, 0, tzinfo=datetime.UTC)
    for recipient, sent_after in (("early@example.edu", 1), ("late@example.edu", 30), ("slow@example.edu", 10)):
        mail_row = make_mail(recipient, status=OutgoingMail.Status.SENT)
        OutgoingMail.objects.filter(pk=mail_row.pk).update(
            created_at=queued, sent_at=queued + datetime.timedelta(minutes=sent_after)
        )
    OutgoingMail.objects.filter(recipient="late@example.edu").update(
        created_at=datetime.datetime(2026, 7, 1, 16, 0, tzinfo=datetime.UTC),
        bounced_at=datetime.datetime(2026, 12, 16, 9, 5, tzinfo=datetime.UTC),
    )

    listing = change_list(admin_client.get(CHANGELIST).content.decode())

    late = next(row for row in listing.rows if row["recipient"] == "late@example.edu")
    assert late["created_at"] == "Wed 1 Jul 2026, 11:00 AM CDT"
    assert late["sent_at"] == "Tue 15 Dec 2026, 11:30 AM CST"
    assert late["bounced_at"] == "Wed 16 Dec 2026, 3:05 AM CST"
    by_sending = change_list(admin_client.get(CHANGELIST + listing.sort_links["sent_at"]).content.decode())
    assert by_sending.column("recipient") == ["early@example.edu", "slow@example.edu", "late@example.edu"]
    backwards = admin_client.get(CHANGELIST + by_sending.sort_links["sent_at"]).content.decode()
    assert change_list(backwards).column("recipient") == ["late@example.edu", "slow@example.edu", "early@example.edu"]


def test_a_messages_page_writes_its_times_with_the_zone(admin_client, note_kind):
    queued = datetime.datetime(2026, 12, 15, 17, 0, tzinfo=datetime.UTC)
    bounced = make_mail(status=OutgoingMail.Status.SENT, attempts=2)
    OutgoingMail.objects.filter(pk=bounced.pk).update(
        created_at=queued,
        sending_started_at=queued + datetime.timedelta(minutes=2),
        sent_at=queued + datetime.timedelta(minutes=3),
        bounced_at=datetime.datetime(2026, 7, 1, 16, 0, tzinfo=datetime.UTC),
    )

    page = change_form(
        admin_client.get(reverse("admin:outbox_outgoingmail_change", args=[bounced.pk])).content.decode()
    )

    assert page.fields["created_at"] == "Tue 15 Dec 2026, 11:00 AM CST"
    assert page.fields["sending_started_at"] == "Tue 15 Dec 2026, 11:02 AM CST"
    assert page.fields["sent_at"] == "Tue 15 Dec 2026, 11:03 AM CST"
    assert page.fields["bounced_at"] == "Wed 1 Jul 2026, 11:00 AM CDT"
    assert page.fields["next_attempt_at"] == "-"


def mails_about_a_talk(talk, number):
    """One message of each kind whose "about" names something else too (its talk, its series, its speaker)."""
    registration = Registration.objects.create(
        event=talk, name=f"Ana {number}", email=f"ana{number}@example.edu", status=Registration.Status.CONFIRMED
    )
    series = Series.objects.create(name=f"Series {number}", slug=f"series-{number}", organizer_email="o@example.edu")
    in_a_week = timezone.now() + datetime.timedelta(days=7)
    about = {
        MailKind.CONFIRMATION: registration,
        follower_emails.CONFIRM: Follower.objects.create(series=series, email=f"fan{number}@example.edu"),
        mailing_emails.TEST: Mailing.objects.create(event=talk, subject=f"Room change {number}", body="Room 2."),
        material_emails.SPEAKER_ADDED: Material.objects.create(event=talk, url="https://example.edu/slides.pdf"),
        speaker_emails.INVITATION: SpeakerInvitation.objects.create(
            event=talk, speaker=talk.speakers.get(), email="atlas@example.edu", expires_at=in_a_week
        ),
        staff_emails.INVITATION: Invitation.objects.create(
            series=series, email=f"new{number}@example.edu", role="organizer", expires_at=in_a_week
        ),
    }
    for kind, thing in about.items():
        OutgoingMail.objects.create(kind=kind, recipient=f"to{number}@example.edu", about=thing)
    return about


def test_the_list_names_what_each_message_is_about_in_the_same_queries_whatever_its_length(admin_client, make_event):
    first = mails_about_a_talk(make_event(title="First talk"), 1)
    admin_client.get(CHANGELIST)  # fills the content type cache, which other tests may have filled
    with CaptureQueriesContext(connection) as one_of_each:
        admin_client.get(CHANGELIST)
    for number in range(2, 6):
        mails_about_a_talk(make_event(title=f"Talk {number}"), number)

    with CaptureQueriesContext(connection) as five_of_each:
        response = admin_client.get(CHANGELIST)

    rows = change_list(response.content.decode()).rows
    assert len(rows) == 5 * len(first)
    about = {row["kind_display"]: row["about_display"] for row in rows if row["recipient"] == "to1@example.edu"}
    assert about == {
        "Confirmation": "Ana 1 – First talk",
        "Follow a series: confirm the address": "A follower of Series 1",
        "Message from the organizers (test)": "Room change 1",
        "A speaker added materials": "Slides (First talk)",
        "Link for a speaker to edit their talk": "Atlas Wang, First talk",
        "Invitation to a series' team": "new1@example.edu to the team of Series 1",
    }
    assert len(five_of_each) == len(one_of_each)


def test_send_again_action_resends_failed_mail_only(admin_client, note_kind, django_capture_on_commit_callbacks):
    failed = make_mail(status=OutgoingMail.Status.FAILED, attempts=1, last_error="timeout")
    sent = make_mail("bo@example.edu", status=OutgoingMail.Status.SENT, attempts=1)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST, {"action": "send_again", "_selected_action": [failed.pk, sent.pk]}, follow=True
        )

    assert response.status_code == 200
    page = response.content.decode()
    assert "1 message queued again." in page
    assert "1 was pending or sent already and was left alone." in page
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (OutgoingMail.Status.SENT, 2)
    assert [m.to for m in mail.outbox] == [["Ana <ana@example.edu>"]]


def test_organizers_see_the_outbox_and_may_send_again_but_not_edit(client, note_kind, monkeypatch):
    from django.db.models import Q

    from outbox import registry

    organizer = get_user_model().objects.create_user("org", password="pw", is_staff=True)
    organizer.groups.add(Group.objects.get(name="Organizers"))
    failed = make_mail(status=OutgoingMail.Status.FAILED)
    client.force_login(organizer)
    # The admin lists only what some app's scope lets this organizer see.
    monkeypatch.setattr(registry, "_scopes", {})
    registry.register_scope(lambda user, roles: Q(kind=NOTE))

    assert organizer.has_perm("outbox.view_outgoingmail")
    assert organizer.has_perm("outbox.change_outgoingmail")
    assert client.get(CHANGELIST).status_code == 200
    assert "send_again" in client.get(CHANGELIST).content.decode()
    detail = client.get(reverse("admin:outbox_outgoingmail_change", args=[failed.pk])).content.decode()
    assert 'name="_save"' not in detail
    monkeypatch.setattr(registry, "_scopes", {})
    assert client.get(reverse("admin:outbox_outgoingmail_change", args=[failed.pk])).status_code == 404


def test_staff_see_the_mail_that_registered_scopes_allow(note_kind, monkeypatch):
    from django.db.models import Q

    from outbox import registry

    users = get_user_model().objects
    superuser = users.create_superuser("root", password="pw")
    staff = users.create_user("org", password="pw", is_staff=True)
    visitor = users.create_user("someone", password="pw")
    mine, other = make_mail("mine@example.edu"), make_mail("other@example.edu")
    monkeypatch.setattr(registry, "_scopes", {})

    assert set(OutgoingMail.objects.managed_by(superuser)) == {mine, other}
    assert not OutgoingMail.objects.managed_by(staff).exists()
    registry.register_scope(lambda user, roles: Q(recipient="mine@example.edu"))
    assert list(OutgoingMail.objects.managed_by(staff)) == [mine]
    assert not OutgoingMail.objects.managed_by(visitor).exists()
