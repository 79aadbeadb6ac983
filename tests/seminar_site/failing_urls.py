"""The site's URLs, plus views that fail the ways the tests of error pages need."""

import psycopg
from django.db import OperationalError
from django.urls import path

from seminar_site.urls import handler500  # noqa: F401 - handler500 is read here
from seminar_site.urls import urlpatterns as site_urlpatterns


def unreachable_database_error() -> OperationalError:
    """What Django raises when PostgreSQL refuses the connection: its OperationalError, caused by psycopg's."""
    cause = psycopg.OperationalError(
        'connection failed: connection to server at "127.0.0.1", port 5432 failed: Connection refused'
    )
    error = OperationalError(*cause.args)
    error.__cause__ = cause
    return error


def database_away(request):
    raise unreachable_database_error()


def bug(request):
    raise ZeroDivisionError("a bug of the site")


urlpatterns = [
    path("test/database-away/", database_away),
    path("test/bug/", bug),
    *site_urlpatterns,
]
