import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import FETCH_PEERS, Exists, F, OuterRef, signals
from django.db.transaction import TransactionManagementError

from events.models import Event, Question, Venue
from outbox.models import OutgoingMail
from registrations.models import Registration, RegistrationLog
from seminar_site.statements import Parameter, PreparedGet, PreparedInsert, PreparedInserts, PreparedUpdate

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


def _talks_with_questions_flag():
    return Event.objects.select_related("series", "venue").annotate(
        asks_questions=Exists(Question.objects.filter(event=OuterRef("pk")))
    )


def _published_talk(calls=None):
    def build():
        if calls is not None:
            calls.append(1)
        return _talks_with_questions_flag().published().filter(slug=Parameter("slug", Event._meta.get_field("slug")))

    return PreparedGet(Event, build)


def test_get_returns_what_the_querysets_get_returns(make_event, ask, django_assert_num_queries):
    talk = make_event(capacity=40, registration_opens=None, online_capacity=None)
    asking = make_event(capacity=5)
    ask(asking, "Lunch?")
    statement = _published_talk()

    for wanted in (talk, asking):
        expected = _talks_with_questions_flag().get(slug=wanted.slug)
        with django_assert_num_queries(1):
            found = statement.get(slug=wanted.slug)
            # The select_related talks come with it: no query of their own.
            assert (found.series, found.venue) == (expected.series, expected.venue)
        for field in Event._meta.concrete_fields:
            assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
        assert found.start.tzinfo is not None
        assert bool(found.asks_questions) == bool(expected.asks_questions) == (wanted == asking)
        assert found._state.adding is False and found._state.db == expected._state.db
        # What Event.from_db remembers, as after any read (a later save compares with it).
        assert found._loaded_calendar_state == expected._loaded_calendar_state


def test_get_raises_as_querysets_get_does(make_event):
    draft = make_event(status=Event.Status.DRAFT)
    statement = _published_talk()

    with pytest.raises(Event.DoesNotExist):
        statement.get(slug=draft.slug)
    with pytest.raises(Event.DoesNotExist):
        statement.get(slug="no-such-talk")

    make_event(slug="twin-a")
    make_event(slug="twin-b")
    twins = PreparedGet(
        Event, lambda: Event.objects.filter(slug__startswith=Parameter("prefix", Event._meta.get_field("slug")))
    )
    with pytest.raises(Event.MultipleObjectsReturned):
        twins.get(prefix="twin-")
    assert twins.get(prefix="twin-a").slug == "twin-a"


def test_get_is_built_once(make_event):
    first, second = make_event(), make_event()
    calls = []
    statement = _published_talk(calls)

    assert statement.get(slug=first.slug) == first
    assert statement.get(slug=second.slug) == second
    assert calls == [1]


def test_a_locking_get_locks_and_needs_a_transaction(make_event, django_assert_num_queries):
    talk = make_event()
    statement = PreparedGet(
        Event,
        lambda: (
            Event.objects.select_for_update(of=("self",), no_key=True)
            .select_related("venue")
            .filter(pk=Parameter("pk", Event._meta.pk))
        ),
    )

    with transaction.atomic(), django_assert_num_queries(1) as captured:
        locked = statement.get(pk=talk.pk)
        assert locked.venue == talk.venue
    assert locked == talk
    if connection.features.has_select_for_update:
        assert "FOR NO KEY UPDATE" in captured.captured_queries[0]["sql"]


@pytest.mark.django_db(transaction=True)
def test_a_locking_get_outside_a_transaction_is_refused(make_event):
    if not connection.features.has_select_for_update:
        pytest.skip("SQLite has no row locks: QuerySet.get refuses nothing there either")
    talk = make_event()
    statement = PreparedGet(Event, lambda: Event.objects.select_for_update().filter(pk=Parameter("pk", Event._meta.pk)))

    with transaction.atomic():
        statement.get(pk=talk.pk)  # compiled inside one
    with pytest.raises(TransactionManagementError):
        statement.get(pk=talk.pk)


def test_get_refuses_wrong_values_and_what_it_cannot_build(make_event):
    talk = make_event()
    statement = _published_talk()

    with pytest.raises(TypeError, match="slug"):
        statement.get(pk=talk.pk)
    with pytest.raises(TypeError, match="prefetch"):
        PreparedGet(Event, lambda: Event.objects.prefetch_related("speakers")).get()
    with pytest.raises(TypeError, match="peers"):
        PreparedGet(Event, lambda: Event.objects.fetch_mode(FETCH_PEERS)).get()
    with pytest.raises(TypeError, match="whole instances"):
        PreparedGet(Event, lambda: Event.objects.only("title")).get()
    with pytest.raises(TypeError, match="Event, not Venue"):
        PreparedGet(Venue, lambda: Event.objects.all()).get()


def _registration(event, **fields):
    return Registration(
        event=event,
        name=fields.pop("name", "Zoë Müller, Jr."),
        email=fields.pop("email", "Zoe@Example.edu"),
        affiliation="UT Austin",
        status=Registration.Status.CONFIRMED,
        **fields,
    )


def test_insert_writes_the_row_model_save_writes(event, django_assert_num_queries):
    by_save = _registration(event, email="saved@example.edu")
    by_save.save(force_insert=True)
    prepared = _registration(event, email="prepared@example.edu")

    with django_assert_num_queries(1):
        assert PreparedInsert(Registration).insert(prepared) is prepared

    assert prepared.pk is not None and prepared.pk != by_save.pk
    assert prepared._state.adding is False and prepared._state.db == "default"
    stored, expected = Registration.objects.get(pk=prepared.pk), Registration.objects.get(pk=by_save.pk)
    different = {"id", "email", "key", "created_at", "search_key"}
    for field in Registration._meta.concrete_fields:
        if field.name not in different:
            assert getattr(stored, field.attname) == getattr(expected, field.attname), field.name
    # What the fields' pre_save make (auto_now_add, the folded search text), as Model.save makes it.
    assert stored.created_at is not None and stored.created_at.tzinfo is not None
    assert stored.search_key.startswith("zoe muller, jr. prepared@")
    assert expected.search_key.startswith("zoe muller, jr. saved@")
    assert stored.key and stored.key != expected.key
    assert Registration.objects.filter(pk=prepared.pk, name__contains="Zoë").exists()


def test_insert_sends_the_signals_model_save_sends(event):
    seen = []

    def before(sender, instance, raw, using, update_fields, **kwargs):
        seen.append(("pre_save", instance.pk, raw, using, update_fields))

    def after(sender, instance, created, raw, using, update_fields, **kwargs):
        seen.append(("post_save", instance.pk, created, raw, using, update_fields))

    signals.pre_save.connect(before, sender=Registration)
    signals.post_save.connect(after, sender=Registration)
    try:
        registration = PreparedInsert(Registration).insert(_registration(event))
    finally:
        signals.pre_save.disconnect(before, sender=Registration)
        signals.post_save.disconnect(after, sender=Registration)

    assert seen == [
        ("pre_save", None, False, "default", None),
        ("post_save", registration.pk, True, False, "default", None),
    ]


def test_a_failed_insert_marks_the_transaction_for_rollback_and_writes_nothing(event):
    statement = PreparedInsert(Registration)
    statement.insert(_registration(event, email="ana@example.edu"))

    with transaction.atomic():
        # The address is registered already (a case-insensitive unique constraint).
        with pytest.raises(IntegrityError):
            statement.insert(_registration(event, email="ANA@example.edu"))
        assert transaction.get_rollback()
    assert Registration.objects.filter(event=event).count() == 1


def test_insert_refuses_what_it_cannot_write(event):
    statement = PreparedInsert(Registration)
    saved = statement.insert(_registration(event))

    with pytest.raises(TypeError, match="new instances"):
        statement.insert(saved)
    with pytest.raises(TypeError, match="new instances"):
        statement.insert(_registration(event, email="other@example.edu", pk=saved.pk + 1000))
    with pytest.raises(TypeError, match="Registration, not Venue"):
        statement.insert(Venue(room="1.1", building="GDC"))
    assert Registration.objects.count() == 1


def _with_history_and_mail():
    return PreparedInserts(
        PreparedInsert(Registration),
        (PreparedInsert(RegistrationLog), "registration_id"),
        (PreparedInsert(OutgoingMail), "about_id"),
    )


def _history_and_mail(registration):
    entry = RegistrationLog(registration=registration, action="registered", to_status=registration.status)
    mail = OutgoingMail(kind="registrations.confirmation", recipient=registration.email, about=registration)
    return entry, mail


def test_inserts_together_write_each_row_as_its_insert_does_pointing_to_the_first(event, django_assert_num_queries):
    apart = PreparedInsert(Registration).insert(_registration(event, email="apart@example.edu"))
    apart_entry, apart_mail = _history_and_mail(apart)
    PreparedInsert(RegistrationLog).insert(apart_entry)
    PreparedInsert(OutgoingMail).insert(apart_mail)
    registration = _registration(event, email="together@example.edu")
    entry, mail = _history_and_mail(registration)

    # One statement on PostgreSQL (WITH clauses); one for each row elsewhere.
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 3):
        _with_history_and_mail().insert(registration, entry, mail)

    assert None not in (registration.pk, entry.pk, mail.pk)
    assert not any(instance._state.adding for instance in (registration, entry, mail))
    assert entry.registration_id == registration.pk and mail.about_id == registration.pk
    assert RegistrationLog.objects.get(pk=entry.pk).registration == registration
    assert OutgoingMail.objects.about(registration).get().pk == mail.pk
    stored = Registration.objects.get(pk=registration.pk)
    assert stored.name == "Zoë Müller, Jr." and stored.search_key.startswith("zoe muller, jr. together@")
    for model, row, expected in (
        (RegistrationLog, entry, apart_entry),
        (OutgoingMail, mail, apart_mail),
    ):
        stored, written_apart = model.objects.get(pk=row.pk), model.objects.get(pk=expected.pk)
        for field in model._meta.concrete_fields:
            if field.name not in {"id", "registration", "about_id", "recipient", "created_at"}:
                assert getattr(stored, field.attname) == getattr(written_apart, field.attname), field.name


def test_inserts_together_send_each_row_s_signals(event):
    seen = []

    def before(sender, instance, **kwargs):
        seen.append(("pre_save", sender.__name__, instance.pk))

    def after(sender, instance, created, **kwargs):
        seen.append(("post_save", sender.__name__, instance.pk is not None, created))

    for model in (Registration, RegistrationLog, OutgoingMail):
        signals.pre_save.connect(before, sender=model)
        signals.post_save.connect(after, sender=model)
    try:
        registration = _registration(event)
        _with_history_and_mail().insert(registration, *_history_and_mail(registration))
    finally:
        for model in (Registration, RegistrationLog, OutgoingMail):
            signals.pre_save.disconnect(before, sender=model)
            signals.post_save.disconnect(after, sender=model)

    names = ("Registration", "RegistrationLog", "OutgoingMail")
    assert sorted(seen) == sorted(
        [("pre_save", name, None) for name in names] + [("post_save", name, True, True) for name in names]
    )
    # Each row's pre_save before its post_save, the registration's first.
    assert seen[0] == ("pre_save", "Registration", None)
    for name in names:
        assert seen.index(("pre_save", name, None)) < seen.index(("post_save", name, True, True))


def test_inserts_together_that_fail_write_nothing_and_mark_the_transaction_for_rollback(event):
    statement = _with_history_and_mail()
    first = _registration(event, email="ana@example.edu")
    statement.insert(first, *_history_and_mail(first))

    with transaction.atomic():
        again = _registration(event, email="ANA@example.edu")
        with pytest.raises(IntegrityError):
            statement.insert(again, *_history_and_mail(again))
        assert transaction.get_rollback()
    assert Registration.objects.count() == RegistrationLog.objects.count() == OutgoingMail.objects.count() == 1


def test_inserts_together_refuse_what_they_cannot_write(event):
    statement = _with_history_and_mail()
    registration = _registration(event)
    entry, _ = _history_and_mail(registration)

    with pytest.raises(TypeError, match="3 instances, not 2"):
        statement.insert(registration, entry)
    with pytest.raises(TypeError, match="OutgoingMail, not RegistrationLog"):
        statement.insert(registration, entry, entry)
    assert not Registration.objects.exists() and not RegistrationLog.objects.exists()


def _prepared_on_the_server() -> dict[str, str]:
    # What this session has prepared, statement text by name (psycopg names them _pg3_0, _pg3_1, ...).
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, statement FROM pg_prepared_statements")
        return dict(cursor.fetchall())


def test_on_postgresql_the_statements_are_prepared_once_per_connection(require_postgres, make_event, event):
    from django.core.cache import cache

    assert connection.settings_dict["OPTIONS"]["prepare_threshold"] == 0
    talk = make_event(capacity=5)
    update, get, insert = _seat_if_started_after(), _published_talk(), PreparedInsert(Registration)
    earlier = talk.start - datetime.timedelta(days=1)

    for n in range(3):
        assert update.execute(pk=talk.pk, after=earlier) == 1
        assert get.get(slug=talk.slug) == talk
        assert insert.insert(_registration(event, email=f"prepared{n}@example.edu")).pk is not None
        assert cache.count("prepared", timeout=60) == n + 1
    prepared = _prepared_on_the_server()

    # One each, however often run: parsed and planned once, then run with each run's values.
    statements = list(prepared.values())
    assert len([sql for sql in statements if sql.startswith('UPDATE "events_event"')]) == 1
    assert len([sql for sql in statements if sql.startswith('SELECT "events_event"."id"')]) == 1
    assert len([sql for sql in statements if sql.startswith('INSERT INTO "registrations_registration"')]) == 1
    # The rate-limit counter's upsert (seminar_site/cache.py), apart from the page cache's writes.
    assert len([sql for sql in statements if "django_cache" in sql and "VALUES ($1, '1', $2)" in sql]) == 1
    assert all("$1" in sql for sql in statements)
    talk.refresh_from_db()
    assert talk.seats_taken == 3
    assert Registration.objects.filter(email__startswith="prepared").count() == 3

    # Django's own queries (every other query of the site) are not prepared: they keep its client-side binding.
    assert Registration.objects.filter(event=event, email__startswith="prepared").count() == 3
    assert Event.objects.filter(pk=talk.pk).values_list("seats_taken", flat=True).get() == 3
    assert _prepared_on_the_server() == prepared


def test_without_prepared_statements_nothing_is_prepared(require_postgres, make_event, monkeypatch):
    from django.db.backends.postgresql.base import Cursor

    from seminar_site.statements import statement_cursor

    # As with DATABASE_PREPARED_STATEMENTS=false (tests/test_settings.py): no prepare_threshold.
    monkeypatch.delitem(connection.settings_dict["OPTIONS"], "prepare_threshold")
    talk = make_event(capacity=5)
    get = _published_talk()
    # (The fixtures' writes to the page cache ran before: with the setting on.)
    before = _prepared_on_the_server()

    with statement_cursor(connection) as cursor:
        assert type(cursor.cursor) is Cursor
    for _ in range(3):
        assert get.get(slug=talk.slug) == talk
    assert not any(sql.startswith('SELECT "events_event"') for sql in _prepared_on_the_server().values())
    assert _prepared_on_the_server() == before


def test_on_sqlite_each_statement_is_rewritten_for_the_driver_once(make_event):
    from seminar_site.statements import _qmark, statement_cursor

    if connection.vendor != "sqlite":
        pytest.skip("the SQLite run checks this")
    talk = make_event(capacity=5)
    update, get = _seat_if_started_after(), _published_talk()
    earlier = talk.start - datetime.timedelta(days=1)
    update.execute(pk=talk.pk, after=earlier)
    get.get(slug=talk.slug)
    before = _qmark.cache_info()

    for _ in range(3):
        assert update.execute(pk=talk.pk, after=earlier) == 1
        assert get.get(slug=talk.slug) == talk
    after = _qmark.cache_info()

    # Six runs, no new rewriting: the "%s" of each statement became "?" on its first run.
    assert (after.hits - before.hits, after.misses - before.misses) == (6, 0)
    talk.refresh_from_db()
    assert talk.seats_taken == 4
    # A literal percent sign ("%%") and a mapping of named values still work as in Django's own cursor.
    with statement_cursor(connection) as cursor:
        cursor.execute("SELECT %s || '%%'", ["100"])
        assert cursor.fetchone() == ("100%",)
        cursor.execute("SELECT %(n)s + 1", {"n": 41})
        assert cursor.fetchone() == (42,)
