"""Figures other apps add to the numbers pages (feedback, say): reports imports none of them.

Each app registers, from its AppConfig.ready(), functions that return
`figures.Table`s for a talk or for a series:

    registry.register_tables(event=feedback_tables, series=series_feedback_tables)

Their tables are shown after the numbers' own, with a chart (unless their
kind is "text", a table only) and a CSV download, like every other.
"""

from collections.abc import Callable

_event_tables: dict[str, Callable] = {}
_series_tables: dict[str, Callable] = {}


def _name(function: Callable) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def register_tables(*, event: Callable | None = None, series: Callable | None = None) -> None:
    """`event(event) -> [Table]` for a talk's page, `series(series) -> [Table]` for a series' page."""
    if event is not None:
        _event_tables[_name(event)] = event
    if series is not None:
        _series_tables[_name(series)] = series


def event_tables(event) -> list:
    return [table for function in _event_tables.values() for table in function(event)]


def series_tables(series) -> list:
    return [table for function in _series_tables.values() for table in function(series)]
