"""The admin's home: each organizer sees their series' week, door staff its doors, counts equal the database."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from events.models import SeriesMember
from outbox.models import OutgoingMail
from registrations import services
from registrations.dashboard import COUNTS
from registrations.models import Registration
from seminar_site import clock
from speaker_edits.models import SpeakerEdit, SpeakerInvitation
from tests.dashboard_tables import talk_tables
from tests.teams import member

pytestmark = pytest.mark.django_db

HOME = reverse("admin:index")


def dashboard(client, user):
    client.force_login(user)
    response = client.get(HOME)
    assert response.status_code == 200
    return response.content.decode()


def fill(event, sign_up, *, confirmed=0, waiting=0, online=0, checked_in=0, cancelled=0):
    people = [sign_up(event) for _ in range(confirmed)]
    for registration in people[:checked_in]:
        services.check_in(registration=registration)
    for _ in range(waiting):
        assert sign_up(event).status == Registration.Status.WAITLISTED
    for _ in range(online):
        sign_up(event, attendance=Registration.Attendance.ONLINE)
    for registration in [sign_up(event) for _ in range(cancelled)]:
        services.cancel_registration(registration=registration)


def expected_cells(event):
    registrations = Registration.objects.filter(event=event)
    confirmed = registrations.filter(status="confirmed")
    in_room = confirmed.filter(attendance="in_person").count()
    cells = {
        "Registered": f"{in_room} / {event.capacity}" + (" (full)" if in_room >= event.capacity else ""),
        "Waiting": str(registrations.filter(status="waitlisted").count()),
        "Online": str(confirmed.filter(attendance="online").count()) if event.has_online else "–",
        "Checked in": str(confirmed.filter(checked_in_at__isnull=False).count()),
    }
    if "held" in COUNTS:
        cells["Held"] = str(registrations.filter(status="held").count())
    return cells


def test_organizer_sees_the_coming_talks_of_their_series_with_counts_from_the_database(client, team, talks, sign_up):
    fill(talks["ifml"], sign_up, confirmed=3, waiting=2, checked_in=1, cancelled=0)
    fill(talks["ifml_hybrid"], sign_up, confirmed=2, online=4)
    services.cancel_registration(registration=Registration.objects.filter(event=talks["ifml_hybrid"]).first())
    fill(talks["robotics"], sign_up, confirmed=5)

    html = dashboard(client, team["ana"])
    tables = talk_tables(html)

    assert list(tables) == ["IFML Seminar"]
    rows = tables["IFML Seminar"]
    assert list(rows) == ["Video generation", "Hybrid talk"]
    for key in ("ifml", "ifml_hybrid"):
        talks[key].refresh_from_db()
        assert rows[talks[key].title] == expected_cells(talks[key])
    assert rows["Video generation"]["Registered"] == "3 / 3 (full)"
    # Another series' talks and drafts are not on the page; a talk that is over is under recent talks.
    assert "Robot hands" not in html and "Robot draft" not in html
    assert list(talk_tables(html, "Recent talks")["IFML Seminar"]) == ["Old talk"]


def test_full_talk_is_marked_for_screen_readers_too(client, team, talks, sign_up):
    fill(talks["ifml"], sign_up, confirmed=3)
    html = dashboard(client, team["ana"])
    assert '3 / 3<span class="visually-hidden"> (full)</span>' in html


def test_each_organizer_sees_only_their_own_series(client, team, talks, sign_up):
    fill(talks["robotics"], sign_up, confirmed=2, waiting=0)
    html = dashboard(client, team["bo"])
    tables = talk_tables(html)
    assert list(tables) == ["Robotics Colloquium"]
    assert tables["Robotics Colloquium"]["Robot hands"]["Registered"] == "2 / 40"
    assert "Video generation" not in html and "Draft talk" not in html
    assert "Robot draft" in html  # their own draft


def test_talk_buttons_lead_to_the_door_messages_numbers_poster_and_editing(client, team, talks):
    html = dashboard(client, team["ana"])
    pk = talks["ifml"].pk
    for url in (
        reverse("checkin:event", args=[pk]),
        reverse("mailings:compose", args=[pk]),
        reverse("reports:event", args=[pk]),
        reverse("admin:events_event_change", args=[pk]),
    ):
        assert f'href="{url}"' in html


def test_door_staff_of_one_series_see_only_its_door_there(client, team, talks, sign_up, other_series):
    # Door-only staff never reach the dashboard (the admin sends them to the door); someone who
    # organizes one series and keeps the door of another sees the second with its door button only.
    bo = member(talks["ifml"].series, "bo", role=SeriesMember.Role.DOOR)
    assert bo == team["bo"]
    fill(talks["ifml"], sign_up, confirmed=2, checked_in=1)
    html = dashboard(client, bo)
    tables = talk_tables(html)
    assert set(tables) == {"IFML Seminar", "Robotics Colloquium"}
    assert tables["IFML Seminar"]["Video generation"]["Checked in"] == "1"
    pk = talks["ifml"].pk
    assert f'href="{reverse("checkin:event", args=[pk])}"' in html
    for url in (
        reverse("mailings:compose", args=[pk]),
        reverse("reports:event", args=[pk]),
        reverse("admin:events_event_change", args=[pk]),
        reverse("reports:series", args=[talks["ifml"].series_id]),
    ):
        assert url not in html
    # The IFML drafts are organizers' business; the Robotics ones are bo's.
    assert "Draft talk" not in html
    assert "Robot draft" in html


def test_drafts_not_yet_published(client, team, talks):
    html = dashboard(client, team["ana"])
    assert "Drafts not yet published" in html
    assert f'href="{reverse("admin:events_event_change", args=[talks["ifml_draft"].pk])}">Draft talk</a>' in html


def test_speaker_edits_waiting_for_a_decision(client, team, talks, speaker):
    event = talks["ifml"]
    invitation = SpeakerInvitation.objects.create(
        event=event, speaker=speaker, email="atlas@example.edu", expires_at=timezone.now() + datetime.timedelta(days=3)
    )
    SpeakerEdit.objects.create(
        invitation=invitation,
        event=event,
        speaker=speaker,
        draft_id="d1",
        before={"title": "Old"},
        after={"title": "New"},
        invite_update=SpeakerEdit.InviteUpdate.PENDING,
    )
    html = dashboard(client, team["ana"])
    assert "Speakers&#x27; edits to review" in html
    assert "1 edit waits for your decision" in html
    assert reverse("speaker_edits:event", args=[event.pk]) in html
    assert "waits for your decision" not in dashboard(client, team["bo"])


def test_emails_that_failed_or_bounced(client, team, talks, sign_up):
    ana_mail = OutgoingMail.objects.about(sign_up(talks["ifml"], email="ana.q@example.edu"))
    ana_mail.update(status=OutgoingMail.Status.FAILED, last_error="550 no such user")
    OutgoingMail.objects.about(sign_up(talks["ifml"], email="cy@example.edu")).update(bounced_at=timezone.now())
    OutgoingMail.objects.about(sign_up(talks["robotics"], email="bo.q@example.edu")).update(status="failed")

    html = dashboard(client, team["ana"])
    assert "Last 30 days: 1 failed, 1 bounced." in html
    assert "ana.q@example.edu" in html and "cy@example.edu" in html
    assert "bo.q@example.edu" not in html
    assert "Last 30 days: 1 failed, 0 bounced." in dashboard(client, team["bo"])


def test_the_panels_write_when_with_the_zone(client, team, talks, sign_up, speaker):
    two_days_ago = timezone.now() - datetime.timedelta(days=2)
    failed = OutgoingMail.objects.about(sign_up(talks["ifml"], email="ana.q@example.edu"))
    failed.update(status=OutgoingMail.Status.FAILED, created_at=two_days_ago)
    invitation = SpeakerInvitation.objects.create(
        event=talks["ifml"], speaker=speaker, email="atlas@example.edu", expires_at=timezone.now()
    )
    edit = SpeakerEdit.objects.create(
        invitation=invitation, event=talks["ifml"], speaker=speaker, draft_id="d1", after={"title": "New"}
    )
    SpeakerEdit.objects.filter(pk=edit.pk).update(created_at=two_days_ago)

    html = dashboard(client, team["ana"])

    when = clock.moment_text(two_days_ago, style=clock.SHORT)
    assert when.endswith((" CST", " CDT"))
    assert f"ana.q@example.edu · Failed · {when}" in html
    assert f"Title · {when}" in html


def test_follower_counts(client, team, talks, series):
    from followers.models import Follower

    now = timezone.now()
    Follower.objects.create(series=series, email="a@example.edu", confirmed_at=now)
    Follower.objects.create(series=series, email="b@example.edu", confirmed_at=now, wants_digest=False)
    Follower.objects.create(series=series, email="c@example.edu")
    html = dashboard(client, team["ana"])
    assert "2 people follow this series" in html
    assert "2 get announcements, 1 the weekly digest; 1 not confirmed yet" in html
    assert "c@example.edu" not in html


def test_superuser_sees_every_series(client, team, talks):
    tables = talk_tables(dashboard(client, team["root"]))
    assert set(tables) == {"IFML Seminar", "Robotics Colloquium"}


def test_someone_on_no_team_is_told_so(client, django_user_model):
    user = django_user_model.objects.create_user("new", password="pw-new-1", is_staff=True)
    assert "You are not on the team of any series yet" in dashboard(client, user)


@pytest.mark.parametrize(("who", "queries"), [("root", 12), ("ana", 14)])
@pytest.mark.parametrize("count", [1, 20])
def test_the_same_number_of_queries_for_1_and_for_20_talks(
    client, team, series, other_series, make_event, sign_up, django_assert_num_queries, count, who, queries
):
    start = timezone.now() + datetime.timedelta(days=1)
    for n in range(count):
        for owner in (series, other_series):
            event = make_event(
                series=owner,
                title=f"{owner.slug} {n}",
                slug=f"{owner.slug}-{n}",
                start=start + datetime.timedelta(days=7 * n),
            )
            sign_up(event)
            make_event(series=owner, title=f"draft {owner.slug} {n}", slug=f"d-{owner.slug}-{n}", status="draft")
    client.force_login(team[who])
    client.get(HOME)  # content types and permissions cached, as on a running site
    with django_assert_num_queries(queries):
        response = client.get(HOME)
    tables = talk_tables(response.content.decode())
    assert len(tables["IFML Seminar"]) == min(count, 12)
