"""Error reports to Sentry when SENTRY_DSN is set, with nothing personal in them.

Every string of an event (message, exception, URL, query string, headers,
breadcrumbs, tags) is masked by the rules of the logs (seminar_site.logs.redact:
email addresses, signed tokens, self-service and door-screen paths), and the values of the
query string and of the Referer's as in the access log (mask_query), so what
Sentry holds is what the log lines hold. Request bodies, local variables and
query parameters of SQL are never sent: they are what people typed. Nor are
cookies, client addresses or user details (sentry-sdk's data_collection option),
nor, in performance traces, the context a template was rendered with.

A database outage is not an error of the site: the requests it fails are
answered 503 and counted in the metrics, and each process logs it once (an
ERROR line, which Sentry's logging integration reports once). The per-request
exceptions are dropped here.
"""

import sentry_sdk
from django.conf import settings
from sentry_sdk.integrations.django import DjangoIntegration

from seminar_site import outage
from seminar_site.logs import mask_query, mask_url_query, redact


def start_reporting(*, transport=None) -> bool:
    """Send errors to the Sentry project of SENTRY_DSN from now on; False (and nothing sent) without one.

    `transport` replaces the HTTP transport (tests capture events with it).
    """
    if not settings.SENTRY_DSN:
        return False
    sentry_sdk.init(
        dsn=settings.SENTRY_DSN,
        environment=settings.SENTRY_ENVIRONMENT,
        traces_sample_rate=settings.SENTRY_TRACES_SAMPLE_RATE,
        integrations=[DjangoIntegration()],
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            # Besides the SDK's own list (Authorization, anything with token, key, session...):
            # client addresses, the proxies' and gunicorn's.
            "http_headers": {"request": {"mode": "denylist", "terms": ["forwarded", "-ip", "remote-", "via"]}},
            "http_bodies": [],
            # Every value filtered at the source, in traces too: a search holds the name looked up.
            "url_query_params": {"mode": "allowlist", "terms": []},
            "database_query_data": False,
            "queues": False,
            "stack_frame_variables": False,
        },
        max_request_body_size="never",
        before_send=scrub,
        before_send_transaction=scrub,
        transport=transport,
    )
    return True


def scrub(event: dict, hint: dict) -> dict | None:
    """The event with every string masked; None (not sent) for a request failed by a database outage."""
    exc_info = (hint or {}).get("exc_info")
    if exc_info and outage.database_unavailable(exc_info[1]):
        return None
    for span in event.get("spans") or ():
        # A traced render keeps its template's context: what the page shows, registrants' names included.
        if isinstance(span, dict) and isinstance(span.get("data"), dict):
            span["data"].pop("context", None)
    event = _masked(event)
    request = event.get("request")
    if isinstance(request, dict):
        if isinstance(request.get("query_string"), str):
            request["query_string"] = mask_query(request["query_string"])
        # A page of the site sends its own address, query string included, as the Referer.
        headers = request.get("headers")
        for name in headers if isinstance(headers, dict) else ():
            if name.lower() == "referer" and isinstance(headers[name], str):
                headers[name] = mask_url_query(headers[name])
    return event


def _masked(value):
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {_masked(key): _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    return value
