"""Log lines: one per event, each naming its request, with addresses and tokens masked.

Self-service links carry a signed token in the path, a door screen's link its
secret key, and forms carry email addresses; log lines (Django's and gunicorn's
access log alike) show none of them.
"""

import contextvars
import logging
import re

from gunicorn.glogging import Logger as GunicornLogger

request_id = contextvars.ContextVar("request_id", default="-")

# A request whose WSGI environ (request.META) holds this key writes no access-log line.
NO_ACCESS_LOG = "seminar_site.no_access_log"

# Each rule also finds what it masks URL-encoded in a query string ("%40" for
# "@", "%3A" for ":", "%2F" for "/"), as an access line or an error report shows it.
# The local part leaves out "/", "?", "&" and "=", which addresses almost never
# hold and URLs always do: "?q=ana@example.edu" keeps its path and parameter name.
_EMAIL = re.compile(r"[\w.!#$%'*+^`{|}~-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+")
# django.core.signing values ("value:signature", with a timestamp part for
# TimestampSigner): the signature is 27 or more URL-safe base64 characters.
_COLON = r"(?::|%3[Aa])"
_SIGNED = re.compile(rf"[\w-]{{6,}}(?:{_COLON}[\w-]+)*{_COLON}[\w-]{{27,}}")
# Paths whose next segment is a secret: self-service links (/r/<token>/) and door
# screens (/screen/<key>/, a random key no other rule recognises), whatever follows.
_LINK_PREFIXES = r"(?:r|screen)"
_TOKEN_PATH = re.compile(rf"(/{_LINK_PREFIXES}/)[^/\s?\"]+|(%2[Ff]{_LINK_PREFIXES}%2[Ff])(?:(?!%2[Ff])[^/\s?\"&])+")


def redact(text: str) -> str:
    text = _TOKEN_PATH.sub(lambda match: f"{match[1] or match[2]}[token]", text)
    text = _SIGNED.sub("[token]", text)
    return _EMAIL.sub("[email]", text)


# A parameter's value, up to the next parameter.
_QUERY_VALUE = re.compile(r"=[^&;]+")


def mask_query(query: str) -> str:
    """`q=Ana+L%C3%B3pez&page=2` → `q=…&page=…`: a query string holds what people typed (a name
    searched for at the door or in the admin, a sign-in provider's code); which parameters stays."""
    return _QUERY_VALUE.sub("=…", query)


def mask_url_query(url: str) -> str:
    """`url` with the values of its query string masked (mask_query)."""
    before, mark, query = url.partition("?")
    return before + mark + mask_query(query)


def forget_request_id(**kwargs) -> None:
    """At the start of each request (Django's request_started): lines logged before
    RequestIdMiddleware gives it an id (/healthz, a metrics scrape) name no request,
    rather than the previous one on this thread, whose id is kept until then."""
    request_id.set("-")


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = request_id.get()
        return True


class SkipHealthCheckFilter(logging.Filter):
    """The development server's request line for /healthz (gunicorn's is skipped by AccessLogger)."""

    def filter(self, record):
        return not (record.name == "django.server" and '"GET /healthz ' in record.getMessage())


class RedactFilter(logging.Filter):
    def filter(self, record):
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class OneLineFormatter(logging.Formatter):
    """`time level logger [request id] message`, a traceback folded onto the same line."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        line = super().format(record)
        return redact(line).replace("\r", "").replace("\n", " ⏎ ")


class AccessLogger(GunicornLogger):
    """gunicorn's logger (gunicorn.conf.py): no access line for /healthz or a
    metrics scrape (NO_ACCESS_LOG), nothing personal in the others: the values
    of query strings masked, addresses and tokens (RedactFilter) too."""

    def access(self, resp, req, environ, request_time):
        if environ.get("PATH_INFO") == "/healthz" or environ.get(NO_ACCESS_LOG):
            return
        super().access(resp, req, environ, request_time)

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["r"] = f"{environ['REQUEST_METHOD']} {mask_url_query(environ['RAW_URI'])} {environ['SERVER_PROTOCOL']}"
        atoms["q"] = mask_query(atoms["q"] or "")
        return atoms

    def setup(self, cfg):
        super().setup(cfg)
        for handler in self.access_log.handlers + self.error_log.handlers:
            handler.addFilter(RedactFilter())
