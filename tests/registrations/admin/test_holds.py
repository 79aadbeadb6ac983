"""Held seats in the admin: counted apart on the talk list, filtered, exported, confirmed on request."""

import pytest

from events.when import CSV, moment_text
from outbox.models import OutgoingMail
from registrations import services
from registrations.models import MailKind, Registration
from tests.registrations.admin.changelist import read_csv, run_action

pytestmark = pytest.mark.django_db


def crowd(event, n):
    return services.register(
        event=event, name=f"Crowd {n}", email=f"crowd{n}@example.edu", signups_from_address=11
    ).registration


def test_the_talk_list_counts_held_seats_apart(admin_client, make_event, sign_up):
    event = make_event(capacity=4, title="Busy talk")
    sign_up(event)
    crowd(event, 1)
    crowd(event, 2)
    sign_up(event)

    response = admin_client.get("/admin/events/event/")

    row = next(e for e in response.context["cl"].result_list if e.pk == event.pk)
    assert (row.confirmed_count, row.held_count, row.capacity, row.waitlisted_count) == (2, 2, 4, 0)
    assert '<td class="field-held">2</td>' in response.content.decode()


def test_registrations_filter_by_status_held_and_by_reason(admin_client, event, sign_up):
    sign_up(event)
    held = crowd(event, 1)

    by_status = admin_client.get("/admin/registrations/registration/", {"status__exact": "held"})
    by_reason = admin_client.get("/admin/registrations/registration/", {"hold_reason__exact": "address"})

    assert list(by_status.context["cl"].result_list) == [held]
    assert list(by_reason.context["cl"].result_list) == [held]
    assert "Held until confirmed" in by_status.content.decode()


def test_the_export_says_until_when_and_why(admin_client, event, sign_up):
    confirmed = sign_up(event)
    held = crowd(event, 1)

    header, *rows = read_csv(run_action(admin_client, "export_csv", [confirmed, held]))

    assert header[-2:] == ["To confirm by", "Asked to confirm because"]
    by_name = {row[2]: row for row in rows}
    assert by_name[held.name][6] == "Held until confirmed"
    assert by_name[held.name][-2:] == [
        moment_text(event, held.hold_until, style=CSV),
        "Many sign-ups from one network address",
    ]
    assert by_name[confirmed.name][-2:] == ["", ""]


def test_an_organizer_can_confirm_holds_for_people_who_asked(admin_client, event, sign_up):
    held = crowd(event, 1)
    confirmed = sign_up(event)

    response = run_action(admin_client, "confirm_holds", [held, confirmed])

    assert "Confirmed 1 registration" in response.content.decode()
    held.refresh_from_db()
    assert held.status == Registration.Status.CONFIRMED and held.hold_until is None
    assert held.log.last().actor.username == "admin"
    assert OutgoingMail.objects.filter(kind=MailKind.CONFIRMATION).count() == 2
    assert held.hold_reason == "address"  # kept, for the numbers
