"""The JSON listing other sites read, and the listing they may show in a frame."""

from functools import wraps

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control, set_response_etag
from django.utils.csp import CSP
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_http_methods

from events.ical import absolute_url
from events.models import Series
from seminar_site.i18n import in_browser_language

from .talks import MAX_TALKS, past_talks, talk_data, upcoming_talks, with_materials

# Listings change when a talk is edited or a seat is taken: a few minutes of caching is harmless.
MAX_AGE = 300
DEFAULT_LIMIT = 20
EMBED_LIMIT = 5


def public_read_only(view):
    """GET and HEAD for any origin, without credentials (CORS), cacheable; OPTIONS answers a preflight."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method == "OPTIONS":
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            response["Access-Control-Max-Age"] = "86400"
        else:
            try:
                response = view(request, *args, **kwargs)
            except Http404:
                # Answered with CORS headers, so another site's script can tell "not found" from "blocked".
                response = JsonResponse({"error": _("No such series.")}, status=404)
            if response.status_code == 200:
                patch_cache_control(response, public=True, max_age=MAX_AGE)
                set_response_etag(response)
                response = get_conditional_response(request, etag=response["ETag"], response=response)
        # "*" never goes with cookies: a browser sends none and reads the answer anyway.
        response["Access-Control-Allow-Origin"] = "*"
        return response

    return require_http_methods(["GET", "HEAD", "OPTIONS"])(in_browser_language(wrapped))


def _limit(request, default: int) -> int:
    try:
        return min(max(int(request.GET.get("limit", default)), 1), MAX_TALKS)
    except ValueError:
        return default


def _listing(request, *, series: Series | None, past: bool = False) -> JsonResponse:
    now = timezone.now()
    talks = past_talks if past else upcoming_talks
    events = with_materials(talks(series=series, now=now)[: _limit(request, DEFAULT_LIMIT)])
    data = {
        "title": series.name if series else settings.SITE_NAME,
        "url": absolute_url(
            series.get_absolute_url() if series else reverse("events:past_event_list") if past else "/"
        ),
        "talks": [talk_data(event, now=now) for event in events],
        "texts": {
            "empty": _("No past talks yet.") if past else _("No upcoming talks are scheduled yet."),
            "cancelled": _("Cancelled"),
            "more": _("All talks of %(name)s") % {"name": series.name}
            if series
            else _("All talks at %(name)s") % {"name": settings.SITE_NAME},
        },
    }
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False})


@public_read_only
def talks_json(request):
    """Upcoming public talks of every series, soonest first (`?limit=N`, at most 100)."""
    return _listing(request, series=None)


@public_read_only
def series_talks_json(request, slug):
    """Upcoming public talks of one series, soonest first (`?limit=N`, at most 100)."""
    return _listing(request, series=get_object_or_404(Series, slug=slug))


@public_read_only
def past_talks_json(request):
    """Talks that took place, of every series, newest first, with their materials (`?limit=N`, at most 100)."""
    return _listing(request, series=None, past=True)


@public_read_only
def series_past_talks_json(request, slug):
    """Talks that took place in one series, newest first, with their materials (`?limit=N`, at most 100)."""
    return _listing(request, series=get_object_or_404(Series, slug=slug), past=True)


def _frame_policy(series: Series) -> dict:
    # The frame is a page of its own: nothing but our stylesheet, and shown
    # only inside the sites the organizers listed.
    return {
        "default-src": [CSP.NONE],
        "style-src": [CSP.SELF],
        "img-src": [CSP.SELF],
        "base-uri": [CSP.NONE],
        "form-action": [CSP.NONE],
        "frame-ancestors": [CSP.SELF, *series.embed_origin_list],
    }


def _render_frame(request, series):
    now = timezone.now()
    limit = _limit(request, EMBED_LIMIT)
    return render(
        request,
        "listings/embed_frame.html",
        {"series": series, "events": upcoming_talks(series=series, now=now)[:limit], "now": now},
    )


@xframe_options_exempt
@require_http_methods(["GET", "HEAD"])
@in_browser_language
def series_embed_frame(request, slug):
    """The next talks of a series as a small page for an iframe on the sites the series allows."""
    series = get_object_or_404(Series, slug=slug)
    response = csp_override(_frame_policy(series))(_render_frame)(request, series)
    patch_cache_control(response, public=True, max_age=MAX_AGE)
    return response
