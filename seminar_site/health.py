"""/healthz for load balancers: 200 when the database answers, 503 when it does not."""

from django.db import DatabaseError, connection
from django.http import HttpResponse

from . import outage

PATH = "/healthz"


def database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        # Logged once per outage, not on every probe.
        outage.noticed(error)
        # A broken persistent connection must not be reused by the next probe.
        connection.close()
        return False
    return True


class HealthCheckMiddleware:
    """Answers /healthz before anything else runs.

    Load balancers probe by IP address and over plain HTTP, so the probe must not
    meet ALLOWED_HOSTS, the HTTPS redirect, sessions (no cookie is set) or rate
    limits. PostgreSQL connections time out after DATABASE_CONNECT_TIMEOUT
    seconds, so a database that hangs still gets a 503 quickly.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info != PATH:
            return self.get_response(request)
        healthy = database_answers()
        response = HttpResponse(
            b"ok\n" if healthy else b"database unavailable\n",
            content_type="text/plain; charset=utf-8",
            status=200 if healthy else 503,
        )
        response["Cache-Control"] = "no-store"
        # database_answers logged the outage once; Django would log every probe's 503 as an error.
        response._has_been_logged = True
        return response
