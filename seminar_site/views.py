"""Error pages that must work when little else does."""

import logging
import sys

from django.conf import settings
from django.http import HttpResponse, HttpResponseServerError
from django.template import loader

from . import outage

logger = logging.getLogger(__name__)


def server_error(request):
    """The 500 page in the site's look, rendered without the request: no session, no query,
    so it shows even when the database is down. A request that failed because the
    database cannot be reached gets the 503 page instead."""
    error = sys.exc_info()[1]  # handler500 runs while Django handles the exception
    if outage.database_unavailable(error):
        return database_unavailable(request, error)
    try:
        body = loader.get_template("500.html").render({"SITE_NAME": settings.SITE_NAME})
    except Exception:
        logger.exception("The 500 page could not be rendered")
        body = "<!doctype html><title>Server error</title><h1>Server error</h1>"
    return HttpResponseServerError(body)


def database_unavailable(request, error: BaseException) -> HttpResponse:
    """503 with Retry-After and the site's page saying to try again in a moment (see outage.py)."""
    outage.noticed(error)
    outage.UNAVAILABLE.inc()
    try:
        body = loader.get_template("503.html").render({"SITE_NAME": settings.SITE_NAME})
    except Exception:
        logger.exception("The 503 page could not be rendered")
        body = "<!doctype html><title>Service unavailable</title><h1>Back in a moment</h1>"
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(outage.RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    # outage.noticed logged it, once per outage; Django would log a traceback for every request.
    response._has_been_logged = True
    return response
