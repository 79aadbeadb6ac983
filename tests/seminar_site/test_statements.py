import datetime

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from events.models import Event, Venue
from seminar_site.statements import Parameter, PreparedUpdate

START = Event._meta.get_field("start")


def _seat_if_started_after(calls=None):
    """One seat more for talk `pk`, if it starts after `after`."""

    def build():
        if calls is not None:
            calls.append(1)
        talk = Event.objects.filter(
            pk=Parameter("pk", Event._meta.pk), start__gt=Parameter("after", START), status=Event.Status.PUBLISHED
        )
        return talk, {"seats_taken": F("seats_taken") + 1}

    return PreparedUpdate(Event, build)


def test_updates_the_rows_the_queryset_selects_with_this_runs_values(make_event):
    talk, other = make_event(capacity=5), make_event(capacity=5)
    statement = _seat_if_started_after()
    # Microseconds matter: on SQLite datetimes are compared as text, as the ORM writes them.
    just_before = talk.start - datetime.timedelta(microseconds=1)

    assert statement.execute(pk=talk.pk, after=just_before) == 1
    assert statement.execute(pk=talk.pk, after=talk.start) == 0
    assert statement.execute(pk=other.pk, after=just_before) == 1
    assert statement.execute(pk=other.pk, after=other.start + datetime.timedelta(days=1)) == 0

    talk.refresh_from_db()
    other.refresh_from_db()
    assert (talk.seats_taken, other.seats_taken) == (1, 1)


def test_constants_are_part_of_the_statement(make_event):
    draft = make_event(capacity=5, status=Event.Status.DRAFT)

    assert _seat_if_started_after().execute(pk=draft.pk, after=draft.start - datetime.timedelta(days=1)) == 0
    draft.refresh_from_db()
    assert draft.seats_taken == 0


def test_built_once_then_one_statement_per_run(make_event, django_assert_num_queries):
    talk = make_event(capacity=5)
    calls = []
    statement = _seat_if_started_after(calls)
    earlier = talk.start - datetime.timedelta(days=1)

    with django_assert_num_queries(1):
        statement.execute(pk=talk.pk, after=earlier)
    with django_assert_num_queries(1):
        statement.execute(pk=talk.pk, after=earlier)

    assert calls == [1]


def test_values_must_name_exactly_the_parameters(make_event):
    talk = make_event(capacity=5)
    statement = _seat_if_started_after()

    with pytest.raises(TypeError, match="after"):
        statement.execute(pk=talk.pk)
    with pytest.raises(TypeError, match="before"):
        statement.execute(pk=talk.pk, after=talk.start, before=talk.start)

    talk.refresh_from_db()
    assert talk.seats_taken == 0


def test_a_failed_run_marks_the_transaction_for_rollback(make_event):
    # seats_taken may not pass capacity (a check constraint): the statement fails in the database.
    talk = make_event(capacity=0)
    statement = _seat_if_started_after()

    with transaction.atomic():
        with pytest.raises(IntegrityError):
            statement.execute(pk=talk.pk, after=talk.start - datetime.timedelta(days=1))
        assert transaction.get_rollback()
    talk.refresh_from_db()
    assert talk.seats_taken == 0


def test_refuses_a_statement_of_another_model():
    statement = PreparedUpdate(Venue, lambda: (Event.objects.all(), {"seats_taken": 1}))

    with pytest.raises(TypeError, match="Event, not Venue"):
        statement.execute()
