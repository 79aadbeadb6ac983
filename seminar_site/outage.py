"""The database out of reach: what a request it fails answers, and how the outage is logged.

A database restart, a failover or a network cut fails every request that needs
the database for a few seconds. That is not a bug of the site: the visitor is
told to try again in a moment (503 with Retry-After, which load balancers and
clients understand, and the site's own page, seminar_site.views), the metrics
count those requests (seminar_database_unavailable_total), and each process
logs the outage once when it first meets it and once when the database
answers again, instead of a traceback for every request in between.
"""

import logging
import sqlite3
import threading
import time

import psycopg
from django.db import InterfaceError, OperationalError
from prometheus_client import Counter

logger = logging.getLogger(__name__)

# Seconds a client is asked to wait: a restart measured on this machine took 1.4 s.
RETRY_AFTER = 10

UNAVAILABLE = Counter(
    "seminar_database_unavailable_total", "Requests answered 503 because the database could not be reached."
)

# PostgreSQL going away: terminated by an administrator (a fast shutdown), crash, starting up or shutting down.
_SERVER_GOING_AWAY = {"57P01", "57P02", "57P03"}


def database_unavailable(error: BaseException | None) -> bool:
    """Did `error` come from a database that cannot be reached right now?

    Yes for connections refused, timed out or cut, a server shutting down or
    starting up, and a full connection pool; no for errors a query causes
    (a deadlock, a statement timeout, a constraint), which are the site's.
    """
    if not isinstance(error, OperationalError | InterfaceError):
        return False
    cause = error.__cause__
    if isinstance(cause, psycopg.InterfaceError):
        return True  # a connection found closed
    if isinstance(cause, psycopg.OperationalError):
        # No SQLSTATE: the client's own failure to connect, or a connection lost mid-query.
        return cause.sqlstate is None or cause.sqlstate.startswith("08") or cause.sqlstate in _SERVER_GOING_AWAY
    if isinstance(cause, sqlite3.OperationalError):
        return "unable to open database file" in str(cause)
    return False


class _Outage:
    """This process's view of an outage: from the first failure to the next new connection."""

    def __init__(self):
        self.lock = threading.Lock()
        self.since: float | None = None
        self.failures = 0

    def noticed(self, error: BaseException) -> None:
        with self.lock:
            self.failures += 1
            if self.since is not None:
                return
            self.since = time.monotonic()
        logger.error("The database cannot be reached (%s); answering 503 until it can", _first_line(error))

    def over(self) -> None:
        with self.lock:
            if self.since is None:
                return
            seconds, failures = time.monotonic() - self.since, self.failures
            self.since, self.failures = None, 0
        logger.warning(
            "The database answers again after %.1f s (requests and checks failed meanwhile: %d)", seconds, failures
        )


_outage = _Outage()


def noticed(error: BaseException) -> None:
    """Record a failure caused by the unreachable database; the first of an outage is logged."""
    _outage.noticed(error)


def database_is_back(sender=None, **kwargs) -> None:
    """A connection was opened (Django's connection_created signal): an outage this process saw is over."""
    _outage.over()


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"
