"""The screen by the door (public through its secret link only) and the organizers' page of that link."""

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from events.models import Event, Series

from . import services
from .display import screen_data
from .models import DoorScreen


def _screen(key: str) -> DoorScreen:
    screen = DoorScreen.objects.select_related("series").filter(key=key).first()
    if screen is None:
        raise Http404
    return screen


def _unlisted(response):
    # The address is the screen's only secret: never indexed (nor cached, never_cache).
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
@require_GET
def screen(request, key):
    """The full-screen page for the monitor by the door; screen.js keeps it current from `screen_json`."""
    screen = DoorScreen.objects.select_related("series").filter(key=key).first()
    if screen is None:
        return _unlisted(render(request, "doorscreen/unknown.html", status=404))
    return _unlisted(render(request, "doorscreen/screen.html", {"screen": screen, "data": screen_data(screen)}))


@never_cache
@require_GET
def screen_json(request, key):
    return _unlisted(JsonResponse(screen_data(_screen(key)), json_dumps_params={"ensure_ascii": False}))


@never_cache
@require_GET
def qr(request, key, slug):
    """The QR code of a talk of the screen's series: its public page."""
    screen = _screen(key)
    event = get_object_or_404(Event.objects.published().filter(series=screen.series), slug=slug)
    response = HttpResponse(content_type="image/svg+xml")
    segno.make(settings.SITE_URL + event.get_absolute_url(), error="m").save(
        response, kind="svg", scale=10, border=4, dark="#000", light="#fff", xmldecl=False, title=event.title
    )
    return _unlisted(response)


@never_cache
@staff_member_required
@require_http_methods(["GET", "POST"])
def manage(request, pk):
    """The series' screen link: open it, make a new one (the old stops working), switch it off."""
    series = get_object_or_404(Series.objects.managed_by(request.user), pk=pk)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "rotate":
            had_one = DoorScreen.objects.filter(series=series).exists()
            services.rotate_screen_link(series=series, actor=request.user)
            messages.success(
                request,
                _("The screen has a new link; the previous one no longer works.")
                if had_one
                else _("The screen has its link: open it on the screen by the door."),
            )
        elif action == "off":
            services.switch_off_screen(series=series)
            messages.success(request, _("The screen link is switched off."))
        return redirect("doorscreen:manage", pk=series.pk)
    screen = DoorScreen.objects.filter(series=series).first()
    return render(request, "doorscreen/manage.html", {"series": series, "screen": screen})
