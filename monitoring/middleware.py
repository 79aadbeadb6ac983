"""Every request counted and timed by view; scrapes of /metrics answered before anything else runs."""

import time

from django.conf import settings
from django.http import HttpResponse
from prometheus_client import Counter, Histogram

from seminar_site.logs import NO_ACCESS_LOG

from . import access, scrape

PATH = "/metrics"

REQUESTS = Counter(
    "seminar_http_requests_total",
    "Requests answered, by view (the route's name), method and status.",
    ["view", "method", "status"],
)
LATENCY = Histogram(
    "seminar_http_request_duration_seconds",
    "Time from the request reaching the site to its response, by view (the route's name).",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

# Anything else a client sends is counted as "other": labels must stay few.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class MetricsMiddleware:
    """Counts requests by route name, never by path: a path holds slugs and tokens, and every new
    one would be a new time series in Prometheus.

    Scrapes are answered here, right after /healthz, for the same reasons: Prometheus
    scrapes each host by address over plain HTTP, so host checks, the HTTPS
    redirect, sessions and rate limits must not apply. A scrape is not counted
    and writes no access-log line (one every few seconds would drown the log);
    a refused one goes on as an ordinary request for a page that does not exist.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == PATH and access.may_scrape(request):
            request.META[NO_ACCESS_LOG] = True
            return metrics(request)
        started = time.perf_counter()
        response = self.get_response(request)
        view = view_label(request)
        REQUESTS.labels(view, request.method if request.method in METHODS else "other", str(response.status_code)).inc()
        LATENCY.labels(view).observe(time.perf_counter() - started)
        return response


def metrics(request) -> HttpResponse:
    body, content_type = scrape.exposition(request.headers.get("Accept", ""))
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response


def view_label(request) -> str:
    """The route name ("events:event_detail"), or the view's dotted path for a route without one."""
    match = request.resolver_match
    if match is not None:
        return match.view_name
    if request.path_info.startswith(settings.STATIC_URL):
        return "static"
    # Nothing matched: a 404, or a response given before URLs were resolved (the HTTPS redirect, a bad host).
    return "unmatched"
