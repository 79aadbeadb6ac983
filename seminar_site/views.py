"""Error pages that must work when little else does."""

import logging

from django.conf import settings
from django.http import HttpResponseServerError
from django.template import loader

logger = logging.getLogger(__name__)


def server_error(request):
    """The 500 page in the site's look, rendered without the request: no session, no query,
    so it shows even when the database is down."""
    try:
        body = loader.get_template("500.html").render({"SITE_NAME": settings.SITE_NAME})
    except Exception:
        logger.exception("The 500 page could not be rendered")
        body = "<!doctype html><title>Server error</title><h1>Server error</h1>"
    return HttpResponseServerError(body)
