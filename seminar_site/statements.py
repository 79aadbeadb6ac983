"""Statements run on every request of a hot path: built with the ORM once per database, then run with values.

Building and compiling a query costs the ORM far more than the database takes
to run it (a conditional UPDATE with a dozen conditions: about a millisecond
of Python against a tenth of one in the database). Where a statement's shape
never changes, only some of its values, `PreparedUpdate` has the ORM write its
SQL once per database alias (the SQL differs by backend) and runs that SQL with
each call's values, prepared for the database as the ORM would prepare them.
"""

from collections.abc import Callable

from django.db import connections, router, transaction
from django.db.models import Expression, Field, Model, QuerySet
from django.db.models.sql import UpdateQuery


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
        key = (using, connection.vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(using)
        sql, template, names = compiled
        if values.keys() != names:
            raise TypeError(f"This statement takes the values {sorted(names)}, not {sorted(values)}.")
        params = [p.db_value(values, connection) if isinstance(p, Parameter) else p for p in template]
        with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
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
        names = frozenset(p.name for p in template if isinstance(p, Parameter))
        return sql, list(template), names
