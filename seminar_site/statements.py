"""Statements run on every request of a hot path: built with the ORM once per database, then run with values.

Building and compiling a query costs the ORM far more than the database takes
to run it (the sign-up's conditional UPDATE, a dozen conditions: most of a millisecond
of Python against a tenth of one in the database). Where a statement's shape
never changes, only some of its values, `PreparedUpdate`, `PreparedGet` and
`PreparedInsert` have the ORM write its SQL once per database alias (the SQL
differs by backend) and run that SQL with each call's values, prepared for the
database as the ORM would prepare them.

`PreparedGet` builds its instances from the rows as QuerySet iteration does
(django.db.models.query.ModelIterable), from what the compiler worked out once:
the columns of the model and of each select_related one, the annotations, and
the converters of the values the database returns. It uses those parts of the
ORM that are not public API; tests/seminar_site/test_statements.py holds it to
QuerySet.get on both databases. `PreparedInsert` likewise compiles an InsertQuery
(with a probe instance whose values are parameters) and reads the columns the
database returns as SQLInsertCompiler does; the same tests hold it to Model.save.

On PostgreSQL the server does its part once too: these statements run on a
cursor that sends the values apart from the SQL (`statement_cursor`), and
psycopg prepares each statement on its first run, so the server parses and
plans it once per connection instead of on every request. The rest of the
site keeps Django's default cursors, which write the values into the SQL text
and never prepare: a few ORM queries need that (Django ticket #34255), and
only these statements run often enough to gain. On SQLite, whose driver keeps
each connection's statements compiled already, the same cursor rewrites a
statement's placeholders for the driver once instead of on every run.
"""

from collections.abc import Callable
from functools import lru_cache, partial

from django.db import connections, router, transaction
from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX, SQLiteCursorWrapper
from django.db.models import Expression, Field, Model, QuerySet, signals
from django.db.models.query import get_related_populators
from django.db.models.sql import InsertQuery, UpdateQuery
from django.db.transaction import TransactionManagementError
from django.utils.asyncio import async_unsafe


class Parameter(Expression):
    """A value given anew on each run of a prepared statement, as `name`; prepared for the database as `field`."""

    def __init__(self, name: str, field: Field):
        super().__init__(output_field=field)
        self.name = name

    def as_sql(self, compiler, connection):
        # The parameter stands for itself in the compiled statement's parameters until the run replaces it.
        return "%s", [self]

    def db_value(self, values: dict, connection):
        return self.output_field.get_db_prep_value(values[self.name], connection, prepared=False)


@async_unsafe
def statement_cursor(connection):
    """A cursor for a statement run on every request of a hot path: what can be done once per statement is.

    On PostgreSQL, when the connection prepares statements (its
    `prepare_threshold` option, which seminar_site/settings.py sets while
    connections are kept: DATABASE_PREPARED_STATEMENTS), the cursor binds
    values on the server, so psycopg prepares the statement: parsed and
    planned once per connection, then run with each call's values. On SQLite
    (whose driver already keeps each connection's statements compiled), the
    placeholders of each statement are rewritten for the driver once instead
    of on every run. Django's own steps come first, as for any cursor: the
    connection's health check, the connection, the execute wrappers (query
    logging and counting). Elsewhere, and with prepared statements off, it is
    the usual cursor.
    """
    if connection.vendor == "sqlite":
        make = _sqlite_cursor
    elif connection.vendor == "postgresql" and connection.settings_dict["OPTIONS"].get("prepare_threshold") is not None:
        make = _server_binding_cursor
    else:
        return connection.cursor()
    # What BaseDatabaseWrapper.cursor() does, with this cursor class instead of the connection's.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        return connection._prepare_cursor(make(connection.connection))


def _server_binding_cursor(raw_connection):
    from django.db.backends.postgresql.base import ServerBindingCursor

    return ServerBindingCursor(raw_connection)


def _sqlite_cursor(raw_connection):
    return raw_connection.cursor(factory=_SQLiteStatementCursor)


class _SQLiteStatementCursor(SQLiteCursorWrapper):
    """Django's SQLite cursor, rewriting a statement's "%s" placeholders as "?" once per statement."""

    def convert_query(self, query, *, param_names=None):
        if param_names is not None:
            return super().convert_query(query, param_names=param_names)
        return _qmark(query)


@lru_cache(maxsize=256)
def _qmark(query: str) -> str:
    # What SQLiteCursorWrapper.convert_query does for "format" style: a regular expression over the whole SQL.
    return FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


def _params(template, names, values: dict, connection) -> list:
    if values.keys() != names:
        raise TypeError(f"This statement takes the values {sorted(names)}, not {sorted(values)}.")
    return [p.db_value(values, connection) if isinstance(p, Parameter) else p for p in template]


def _parameter_names(template) -> frozenset:
    return frozenset(p.name for p in template if isinstance(p, Parameter))


def _for_database(compiled: dict, using: str, connection, make: Callable):
    """What `make(using)` gave for this database alias (and backend), made on first use."""
    key = (using, connection.vendor)
    found = compiled.get(key)
    if found is None:
        found = compiled[key] = make(using)
    return found


class PreparedUpdate:
    """`queryset.update(**changes)` whose SQL the ORM writes once per database alias.

    `build()` returns `(queryset, changes)` of `model`, a single-table update,
    with a `Parameter` wherever a value differs from one run to the next;
    every other value is written into the statement once, so it must be a
    constant. `execute(**values)` runs it with a value for each parameter and
    returns the number of rows changed, as `QuerySet.update` does, on the
    database the router gives for writing `model`.

    Raises TypeError when `values` does not name exactly the parameters.
    """

    def __init__(self, model: type[Model], build: Callable[[], tuple[QuerySet, dict]]):
        self.model = model
        self._build = build
        self._compiled = {}

    def execute(self, **values) -> int:
        using = router.db_for_write(self.model)
        connection = connections[using]
        compiled = _for_database(self._compiled, using, connection, self._compile)
        sql, template, names = compiled
        params = _params(template, names, values, connection)
        with transaction.mark_for_rollback_on_error(using), statement_cursor(connection) as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    def _compile(self, using: str):
        queryset, changes = self._build()
        if queryset.model is not self.model:
            raise TypeError(f"The statement updates {queryset.model.__name__}, not {self.model.__name__}.")
        # What QuerySet.update does, short of running it.
        query = queryset.query.chain(UpdateQuery)
        query.add_update_values(changes)
        query.clear_select_clause()
        if query.related_updates:
            raise TypeError("A prepared update changes one table.")
        sql, template = query.get_compiler(using).as_sql()
        return sql, list(template), _parameter_names(template)


class PreparedGet:
    """`queryset.get()` whose SQL the ORM writes once per database alias.

    `build()` returns a queryset of `model` (filters, select_related,
    annotations, select_for_update: what a QuerySet can do short of
    prefetching, deferring, values() or fetching peers) with a `Parameter` wherever a value
    differs from one run to the next; every other value is written into the
    statement once, so it must be a constant. `get(**values)` runs it with a
    value for each parameter and returns the one instance found, as
    `QuerySet.get` would: its select_related objects and annotations with it.

    Raises `model.DoesNotExist` when no row matches and
    `model.MultipleObjectsReturned` when more than one does; a queryset that
    locks its rows (select_for_update) raises TransactionManagementError
    outside a transaction, as `QuerySet.get` does; TypeError when `values`
    does not name exactly the parameters.
    """

    def __init__(self, model: type[Model], build: Callable[[], QuerySet]):
        self.model = model
        self._build = build
        self._queryset = None
        self._compiled = {}

    def get(self, **values) -> Model:
        if self._queryset is None:
            self._queryset = self._checked(self._build())
        using = self._queryset.db
        connection = connections[using]
        compiled = _for_database(self._compiled, using, connection, partial(_CompiledGet, self._queryset))
        params = _params(compiled.template, compiled.names, values, connection)
        if compiled.locks and connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        with statement_cursor(connection) as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchmany(2)
        if not rows:
            raise self.model.DoesNotExist(f"{self.model._meta.object_name} matching query does not exist.")
        if len(rows) > 1:
            raise self.model.MultipleObjectsReturned(f"get() returned more than one {self.model._meta.object_name}.")
        return compiled.instance(rows[0], connection)

    def _checked(self, queryset: QuerySet) -> QuerySet:
        if queryset.model is not self.model:
            raise TypeError(f"The statement reads {queryset.model.__name__}, not {self.model.__name__}.")
        query = queryset.query
        if query.combinator or query.values_select or query.deferred_loading != (frozenset(), True):
            raise TypeError("A prepared get reads whole instances of one queryset.")
        if queryset._prefetch_related_lookups:
            raise TypeError("A prepared get cannot prefetch.")
        if queryset._fetch_mode.track_peers:
            # Its related populators, kept from one run to the next, would collect every run's instances.
            raise TypeError("A prepared get reads one instance: it has no peers to fetch with.")
        return queryset


class _CompiledGet:
    """What QuerySet.get and ModelIterable work out for each run, worked out once for one database alias."""

    def __init__(self, queryset: QuerySet, using: str):
        connection = connections[using]
        # As QuerySet.get narrows the query: no ordering, and at most two rows (one is wanted).
        query = queryset.query.chain()
        query.clear_ordering(force=True)
        if not query.select_for_update or connection.features.supports_select_for_update_with_limit:
            query.set_limits(high=2)
        compiler = query.get_compiler(using)
        self.sql, template = compiler.as_sql()
        self.template, self.names = list(template), _parameter_names(template)
        self.locks = bool(query.select_for_update and connection.features.has_select_for_update)
        # As ModelIterable builds instances from rows (compiler.select and klass_info exist once compiled).
        select, klass_info = compiler.select, compiler.klass_info
        self.converters = compiler.get_converters([column for column, _, _ in select[: compiler.col_count]])
        self.model = klass_info["model"]
        self.start, self.end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self.init_list = [column.target.attname for column, _, _ in select[self.start : self.end]]
        self.fetch_mode = queryset._fetch_mode
        self.related_populators = get_related_populators(klass_info, select, using, self.fetch_mode)
        self.annotations = dict(compiler.annotation_col_map)
        self.using = using

    def instance(self, row, connection) -> Model:
        row = list(row)
        for position, (converters, expression) in self.converters.items():
            value = row[position]
            for converter in converters:
                value = converter(value, expression, connection)
            row[position] = value
        instance = self.model.from_db(
            self.using, self.init_list, row[self.start : self.end], fetch_mode=self.fetch_mode
        )
        for populator in self.related_populators:
            populator.populate(row, instance)
        for name, position in self.annotations.items():
            setattr(instance, name, row[position])
        return instance


class PreparedInsert:
    """`instance.save(force_insert=True)` for new rows of `model`: the ORM writes its INSERT once per database alias.

    `insert(instance)` writes the instance as Model.save's insert would: the
    pre_save signal, every concrete field's `pre_save` (auto_now_add, computed
    fields) and `get_db_prep_save`, the database's generated values (the
    primary key) set on the instance, then the post_save signal (created); on
    the database the router gives for writing it. It does not call the model's
    own `save()`: what an override does, the caller does first.

    Preconditions: a new instance (no primary key unless the model sets its
    own, as a UUID default does), its foreign keys' objects saved, and plain
    values in its fields (no expressions). Raises TypeError for a model that
    inherits concrete fields from another (a multi-table insert).
    """

    def __init__(self, model: type[Model]):
        if model._meta.parents:
            raise TypeError("A prepared insert writes one table.")
        self.model = model
        self._compiled = {}

    def insert(self, instance: Model) -> Model:
        return self._insert(instance, self._check(instance))

    def _insert(self, instance: Model, using: str) -> Model:
        connection = connections[using]
        compiled = self._compiled_for(using, connection)
        signals.pre_save.send(sender=self.model, instance=instance, raw=False, using=using, update_fields=None)
        values = compiled.values(instance, connection)
        params = [values[p.name] if isinstance(p, Parameter) else p for p in compiled.template]
        with transaction.mark_for_rollback_on_error(using), statement_cursor(connection) as cursor:
            cursor.execute(compiled.sql, params)
            if compiled.returning:
                row = connection.ops.fetch_returned_rows(cursor, compiled.returning_params)[0]
                compiled.set_returned(instance, row, connection)
        self._saved(instance, using)
        return instance

    def _check(self, instance: Model) -> str:
        """The database alias `instance` is written to; TypeError unless it is a new instance of the model."""
        model = self.model
        if type(instance) is not model:
            raise TypeError(f"This statement inserts {model.__name__}, not {type(instance).__name__}.")
        if not instance._state.adding or (model._meta.auto_field and instance.pk is not None):
            raise TypeError("A prepared insert writes new instances only, their key made by the database.")
        return router.db_for_write(model, instance=instance)

    def _compiled_for(self, using: str, connection) -> "_CompiledInsert":
        return _for_database(self._compiled, using, connection, partial(_CompiledInsert, self.model))

    def _saved(self, instance: Model, using: str) -> None:
        instance._state.adding = False
        instance._state.db = using
        signals.post_save.send(
            sender=self.model, instance=instance, created=True, update_fields=None, raw=False, using=using
        )


class PreparedInserts:
    """A new row and rows that point to it, each written as its PreparedInsert would, in one statement on PostgreSQL.

    `PreparedInserts(first, (then, "field_id"), ...)`: `insert(a, b, ...)`
    writes `a` with `first`, then each following instance with its own
    PreparedInsert, the field named beside it set to `a`'s new primary key.
    On PostgreSQL that is one statement (data-modifying WITH clauses): one
    round trip to the server instead of one for each row, which on a sign-up
    is most of what the database costs the web worker. Elsewhere it is one
    statement each, in order. Signals, each field's `pre_save` and the
    returned values are as PreparedInsert's; the pre_save signals all come
    before the statement, the post_save signals after it.

    Preconditions: as PreparedInsert's for each instance, all written to the
    same database; the named fields are for `a`'s key and nothing else.
    Raises TypeError for instances that do not match the statements.
    """

    def __init__(self, first: PreparedInsert, *then: tuple[PreparedInsert, str]):
        self.first = first
        self.then = then
        self._compiled = {}

    def insert(self, first: Model, *instances: Model) -> None:
        if len(instances) != len(self.then):
            raise TypeError(f"These statements insert {len(self.then) + 1} instances, not {len(instances) + 1}.")
        using = self.first._check(first)
        if any(
            prepared._check(instance) != using for (prepared, _), instance in zip(self.then, instances, strict=True)
        ):
            raise TypeError("Prepared inserts run together write to one database.")
        connection = connections[using]
        if connection.vendor != "postgresql":
            self.first._insert(first, using)
            for (prepared, attname), instance in zip(self.then, instances, strict=True):
                setattr(instance, attname, first.pk)
                prepared._insert(instance, using)
            return
        statements = [self.first, *(prepared for prepared, _ in self.then)]
        every = [first, *instances]
        parts = [prepared._compiled_for(using, connection) for prepared in statements]
        sql = _for_database(self._compiled, using, connection, partial(self._chained_sql, parts))
        for prepared, instance in zip(statements, every, strict=True):
            signals.pre_save.send(sender=prepared.model, instance=instance, raw=False, using=using, update_fields=None)
        params = []
        for position, (compiled, instance) in enumerate(zip(parts, every, strict=True)):
            values = compiled.values(instance, connection)
            linked = self.then[position - 1][1] if position else None
            params += [values[p.name] for p in compiled.template if p.name != linked]
        with transaction.mark_for_rollback_on_error(using), statement_cursor(connection) as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        for compiled, instance in zip(parts, every, strict=True):
            returned, row = row[: len(compiled.returning)], row[len(compiled.returning) :]
            compiled.set_returned(instance, returned, connection)
        for (_, attname), instance in zip(self.then, instances, strict=True):
            setattr(instance, attname, first.pk)
        for prepared, instance in zip(statements, every, strict=True):
            prepared._saved(instance, using)

    def _chained_sql(self, parts, using: str) -> str:
        quote = connections[using].ops.quote_name
        first, *rest = parts
        key = first.returning[0][0] if first.returning else None
        if key is None or not key.primary_key:
            raise TypeError("The first row's statement must return its primary key.")
        names = [quote(f"i{position}") for position in range(len(parts))]
        clauses = [f"{names[0]} AS ({first.sql})"]
        key_of_first = f"(SELECT {quote(key.column)} FROM {names[0]})"  # noqa: S608 - names from the models
        for position, (compiled, (_, attname)) in enumerate(zip(rest, self.then, strict=True), start=1):
            head, tail = compiled.sql.split(" VALUES (", 1)
            placeholders, returning = tail.split(") RETURNING ", 1)
            if placeholders.split(", ") != ["%s"] * len(compiled.template):
                raise TypeError("Prepared inserts run together need a plain placeholder for every value.")
            # In VALUES, as the insert alone has it, so that the server types each value by its column.
            values = [key_of_first if p.name == attname else "%s" for p in compiled.template]
            clauses.append(f"{names[position]} AS ({head} VALUES ({', '.join(values)}) RETURNING {returning})")
        selected = ", ".join(
            f"{name}.{quote(field.column)}"
            for name, compiled in zip(names, parts, strict=True)
            for field, *_ in compiled.returning
        )
        tables = ", ".join(names)
        # Every name and clause comes from the models and the ORM's compiled inserts; the values are parameters.
        return f"WITH {', '.join(clauses)} SELECT {selected} FROM {tables}"  # noqa: S608


class _CompiledInsert:
    """What Model.save works out for each insert of `model` (its fields, SQL and returned columns), done once."""

    def __init__(self, model: type[Model], using: str):
        connection = connections[using]
        meta = model._meta
        if not connection.features.can_return_columns_from_insert:
            raise TypeError("A prepared insert needs a database that returns the columns it generates.")
        # As Model._save_table picks them for a new row whose primary key the database generates.
        self.fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field]
        returning = meta.db_returning_fields
        # A probe whose every value is a Parameter named after its field; raw, so that no pre_save runs on it.
        probe = model.__new__(model)
        for field in self.fields:
            probe.__dict__[field.attname] = Parameter(field.attname, field)
        query = InsertQuery(model)
        query.insert_values(self.fields, [probe], raw=True)
        compiler = query.get_compiler(using)
        compiler.returning_fields = returning
        [(self.sql, template)] = compiler.as_sql()
        self.template = list(template)
        self.returning_params = compiler.returning_params
        columns = [field.get_col(meta.db_table) for field in returning]
        converters = compiler.get_converters(columns)
        self.returning = [
            (field, *converters.get(position, ((), column)))
            for position, (field, column) in enumerate(zip(returning, columns, strict=True))
        ]

    def values(self, instance: Model, connection) -> dict:
        """Each field's value as Model.save's insert prepares it, by attname."""
        return {
            field.attname: field.get_db_prep_save(field.pre_save(instance, add=True), connection)
            for field in self.fields
        }

    def set_returned(self, instance: Model, row, connection) -> None:
        """The values the database generated (the returning columns of `row`), converted, set on `instance`."""
        for (field, converters, expression), value in zip(self.returning, row, strict=True):
            for converter in converters:
                value = converter(value, expression, connection)
            setattr(instance, field.attname, value)
