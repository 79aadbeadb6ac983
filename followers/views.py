"""The public side of following a series: the form, the confirmation link, the link to change what
a follower gets (and the page that emails it again), the unsubscribe link."""

from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from events.models import Series
from seminar_site.limits import email_rate_limit

from . import services
from .forms import FOLLOW_PREFIX, ChoicesForm, FollowForm, ManageLinkForm
from .models import CONFIRM_SALT, MANAGE_SALT, UNSUBSCRIBE_SALT, Follower


@require_http_methods(["GET", "POST"])
@email_rate_limit("follow", field=f"{FOLLOW_PREFIX}-email")
def follow(request, slug):
    """The "Follow this series" form of the series and talk pages posts here; GET shows it alone."""
    series = get_object_or_404(Series, slug=slug)
    form = FollowForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        services.follow(series=series, email=form.cleaned_data["email"])
        # The same answer whether the address is new, waiting or following already.
        return redirect("followers:follow_sent", slug=series.slug)
    return render(
        request, "followers/follow.html", {"series": series, "follow_form": form}, status=400 if form.errors else 200
    )


@require_GET
def follow_sent(request, slug):
    series = get_object_or_404(Series, slug=slug)
    return render(request, "followers/follow_sent.html", {"series": series})


def _invalid_link(request):
    return render(request, "followers/link_invalid.html", status=404)


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request, token):
    """The link of the confirmation mail: choose what to get, and confirm by POST (link scanners only GET)."""
    try:
        follower = (
            Follower.objects.select_related("series")
            .active()
            .from_token(token, salt=CONFIRM_SALT, max_age=services.confirm_link_max_age())
        )
    except Follower.DoesNotExist:
        return _invalid_link(request)
    return _choices_page(request, follower, save=services.confirm)


@never_cache
@require_http_methods(["GET", "POST"])
def manage(request, token):
    """The "change what you get" link of every announcement and digest: the same choice, for a confirmed follower."""
    try:
        follower = Follower.objects.select_related("series").confirmed().from_token(token, salt=MANAGE_SALT)
    except Follower.DoesNotExist:
        return _invalid_link(request)
    return _choices_page(request, follower, save=services.change_choices)


def _choices_page(request, follower, *, save):
    """What the follower gets, as a form; `save` (a service) records the choice posted."""
    initial = (
        {"wants_announcements": follower.wants_announcements, "wants_digest": follower.wants_digest}
        if follower.confirmed_at
        else None
    )
    form = ChoicesForm(request.POST if request.method == "POST" else None, initial=initial, series=follower.series)
    if form.is_valid():
        try:
            follower = save(
                follower=follower,
                wants_announcements=form.cleaned_data["wants_announcements"],
                wants_digest=form.cleaned_data["wants_digest"],
            )
        except services.FollowError as error:
            form.add_error(None, error.message)
        else:
            return render(request, "followers/confirmed.html", {"follower": follower, "series": follower.series})
    return render(
        request,
        "followers/confirm.html",
        {"follower": follower, "series": follower.series, "form": form},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@email_rate_limit("follow-manage-link")
def manage_link(request):
    """A follower types their address and gets the link to change what they get, by email only."""
    form = ManageLinkForm(request.POST or None)
    if form.is_valid():
        services.send_manage_links(email=form.cleaned_data["email"])
        # The same answer whether or not the address follows a series.
        return redirect("followers:manage_link_sent")
    return render(request, "followers/manage_link.html", {"form": form}, status=400 if form.errors else 200)


@require_GET
def manage_link_sent(request):
    return render(request, "followers/manage_link_sent.html")


# The one endpoint without CSRF protection: mail clients' one-click unsubscribe
# (RFC 8058) POSTs here with no cookie and no form token. The signed token in
# the URL is what authorizes it, and all it can do is stop mail to its owner.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    """GET asks for confirmation (scanners follow links); POST unsubscribes, for good, no login needed."""
    try:
        follower = Follower.objects.select_related("series").from_token(token, salt=UNSUBSCRIBE_SALT)
    except Follower.DoesNotExist:
        return _invalid_link(request)
    if request.method == "POST":
        services.unsubscribe(follower=follower)
        return render(request, "followers/unsubscribed.html", {"series": follower.series})
    return render(
        request,
        "followers/unsubscribe.html",
        {"series": follower.series, "stopped": not follower.is_current},
    )
