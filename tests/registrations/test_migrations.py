"""The outbox moved out of registrations: a database at the old schema keeps its queue."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("registrations", "0004_organizers_question_permissions"), ("outbox", None)]


def test_migrating_moves_queued_mail_to_the_outbox():
    executor = MigrationExecutor(connection)
    # Other apps' migrations stay applied: the models as the database has them now.
    old = executor.migrate(BEFORE).apps
    series = old.get_model("events", "Series").objects.create(
        name="IFML", slug="ifml", organizer_name="O", organizer_email="o@example.edu"
    )
    venue = old.get_model("events", "Venue").objects.create(room="GDC 6.302", default_capacity=40)
    start = datetime.datetime(2027, 1, 20, 17, tzinfo=datetime.UTC)
    event = old.get_model("events", "Event").objects.create(
        series=series,
        title="T",
        slug="t",
        venue=venue,
        start=start,
        end=start + datetime.timedelta(hours=1),
        capacity=5,
    )
    registration = old.get_model("registrations", "Registration").objects.create(
        event=event, name="Ana", email="ana@example.edu", status="confirmed"
    )
    OldMail = old.get_model("registrations", "OutgoingMail")
    OldMail.objects.create(registration=registration, kind="confirmation", status="sent", attempts=1)
    OldMail.objects.create(registration=registration, kind="reminder", reminder_for=start)

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    from outbox.models import OutgoingMail
    from registrations.mail import reminder_key
    from registrations.models import MailKind, Registration

    moved = Registration.objects.get(pk=registration.pk)
    rows = list(OutgoingMail.objects.about(moved).order_by("pk"))
    assert [(row.kind, row.status, row.recipient) for row in rows] == [
        (MailKind.CONFIRMATION, "sent", "ana@example.edu"),
        (MailKind.REMINDER, "pending", "ana@example.edu"),
    ]
    assert rows[1].once_key == reminder_key(start)
    assert "registrations_outgoingmail" not in connection.introspection.table_names()


def test_migrating_gives_existing_registrations_their_search_key(event):
    executor = MigrationExecutor(connection)
    old = executor.migrate([("registrations", "0010_registration_language")]).apps
    OldRegistration = old.get_model("registrations", "Registration")
    ana = OldRegistration.objects.create(
        event_id=event.pk, name="José Ñúñez", email="Jose@Example.edu", status="confirmed"
    )

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    from registrations.models import Registration

    assert Registration.objects.get(pk=ana.pk).search_key == "jose nunez jose@example.edu"
    assert list(Registration.objects.matching("ÑUÑEZ")) == [Registration.objects.get(pk=ana.pk)]


def test_migrating_lets_the_door_find_addresses_registered_at_international_domains(event):
    executor = MigrationExecutor(connection)
    old = executor.migrate([("registrations", "0014_link_resent_action")]).apps
    OldRegistration = old.get_model("registrations", "Registration")
    # Registered from a browser before: the domain in ASCII, and the search key made from that spelling.
    jose = OldRegistration.objects.create(
        event_id=event.pk,
        name="José",
        email="jose@xn--mnchen-3ya.example",
        status="confirmed",
        search_key="jose jose@xn--mnchen-3ya.example",
    )
    ana = OldRegistration.objects.create(
        event_id=event.pk, name="Ana", email="ana@example.edu", status="confirmed", search_key="ana ana@example.edu"
    )

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    from registrations.models import Registration

    assert Registration.objects.get(pk=jose.pk).search_key == "jose jose@munchen.example"
    assert list(Registration.objects.matching("München")) == [Registration.objects.get(pk=jose.pk)]
    assert Registration.objects.get(pk=ana.pk).search_key == "ana ana@example.edu"


def test_migrating_writes_the_notes_of_sent_updates_in_words(event):
    executor = MigrationExecutor(connection)
    old = executor.migrate([("registrations", "0016_talk_cancelled_and_on_again_actions")]).apps
    registration = old.get_model("registrations", "Registration").objects.create(
        event_id=event.pk, name="Ana", email="ana@example.edu", status="confirmed"
    )
    OldLog = old.get_model("registrations", "RegistrationLog")
    notes = ["end, start", "start, venue", "abstract, speakers, title", "Asked for the link again.", ""]
    entries = [OldLog.objects.create(registration=registration, action="update_sent", note=note) for note in notes]
    other = OldLog.objects.create(registration=registration, action="checked_in", note="end, start")

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    from registrations.models import RegistrationLog

    assert [RegistrationLog.objects.get(pk=entry.pk).note for entry in entries] == [
        "New time",
        "New time, new place",
        "New title, new speakers, new abstract",
        "Asked for the link again.",
        "",
    ]
    assert RegistrationLog.objects.get(pk=other.pk).note == "end, start"
