"""The door: the phone-first check-in page of a talk, and the page a ticket's QR code opens.

Staff reach a talk's check-in page when they organize or work the door of its
series (events.scoping.CHECK_IN_ROLES) and hold the check-in permission; any
other talk is a 404. The ticket page shows nothing personal to anyone else.
Every state change is a POST that redirects (reloading never repeats it).
"""

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from events import when
from events.models import Event
from events.scoping import CHECK_IN_ROLES
from registrations.models import CHECKIN_LINK_SALT, Registration
from registrations.search import search_condition
from registrations.services import RegistrationError

from . import services
from .forms import WalkInForm

PERMISSION = "registrations.check_in_registration"
# The most people the door list shows at once: a phone gets a short page; search finds the rest.
DOOR_LIST_LIMIT = 50
Status, Attendance = Registration.Status, Registration.Attendance


def may_check_in(user, event) -> bool:
    return (
        user.has_perm(PERMISSION) and Event.objects.managed_by(user, roles=CHECK_IN_ROLES).filter(pk=event.pk).exists()
    )


def _door_event(request, pk) -> Event:
    if not request.user.has_perm(PERMISSION):
        raise Http404
    return get_object_or_404(
        Event.objects.managed_by(request.user, roles=CHECK_IN_ROLES).select_related("series", "venue"), pk=pk
    )


def _registration(event, pk) -> Registration:
    registration = get_object_or_404(Registration.objects.filter(event=event), pk=pk)
    # The talk was just read with the door's checks: no second read of it (services use registration.event).
    registration.event = event
    return registration


def _back(request, event):
    # Back to the list as it was (search kept), never to another site.
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("checkin:event", pk=event.pk)


def _report(request, event, result) -> None:
    name = result.registration.name
    if result.already:
        messages.info(
            request,
            _("%(name)s was already checked in at %(time)s.")
            % {"name": name, "time": when.time_of_day(event, result.registration.checked_in_at)},
        )
    else:
        messages.success(request, _("%(name)s is checked in.") % {"name": name})


@never_cache
@staff_member_required
@require_GET
def index(request):
    """The talks whose door this person may work: today's and upcoming first."""
    if not request.user.has_perm(PERMISSION):
        raise Http404
    now = timezone.now()
    events = (
        Event.objects.managed_by(request.user, roles=CHECK_IN_ROLES)
        .published()
        .exclude(attendance_mode=Event.AttendanceMode.ONLINE)  # no door to check in at
        .select_related("venue")
    )
    return render(
        request,
        "checkin/index.html",
        {"upcoming": events.upcoming(now)[:20], "past": events.past(now)[:10]},
    )


def door_list(event, query: str = "", *, limit: int = DOOR_LIST_LIMIT):
    """(people shown, counts) for the door page of `event`, in two queries whatever the number of registrations.

    People in the room first: confirmed, then held until confirmed by email
    (checking them in confirms the seat: they are here), then waiting; then
    those attending online (checked in nowhere: they are listed so that staff
    can tell them apart), then cancellations; by name within each. At most `limit` people;
    counts["matching"] says how many match `query` in all. Erased registrations
    are left out.
    """
    registrations = Registration.objects.filter(event=event, erased_at__isnull=True)
    search = search_condition(query)
    in_room = Q(attendance=Attendance.IN_PERSON)
    counts = registrations.aggregate(
        confirmed=Count("pk", filter=in_room & Q(status=Status.CONFIRMED)),
        held=Count("pk", filter=in_room & Q(status=Status.HELD)),
        here=Count("pk", filter=in_room & Q(status=Status.CONFIRMED, checked_in_at__isnull=False)),
        online=Count("pk", filter=Q(attendance=Attendance.ONLINE, status=Status.CONFIRMED)),
        online_waiting=Count("pk", filter=Q(attendance=Attendance.ONLINE, status=Status.WAITLISTED)),
        matching=Count("pk", filter=search) if search else Count("pk"),
    )
    rank = Case(
        When(status=Status.CANCELLED, then=Value(4)),
        When(attendance=Attendance.ONLINE, then=Value(3)),
        When(status=Status.WAITLISTED, then=Value(2)),
        When(status=Status.HELD, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    people = list(registrations.filter(search).annotate(rank=rank).order_by("rank", "name", "pk")[:limit])
    return people, counts


@never_cache
@staff_member_required
@require_GET
def event_checkin(request, pk):
    """The list at the door: people in the room first, searchable by name or email without JavaScript.

    The page stays short at any size of audience: the first DOOR_LIST_LIMIT
    people by name, the total, and search for the rest.
    """
    event = _door_event(request, pk)
    query = " ".join(request.GET.get("q", "").split())[:200]
    people, counts = door_list(event, query) if event.has_in_person else ([], None)
    if counts is None:  # online only: nobody comes through a door
        counts = Registration.objects.filter(event=event).aggregate(
            online=Count("pk", filter=Q(status=Status.CONFIRMED)),
            online_waiting=Count("pk", filter=Q(status=Status.WAITLISTED)),
        )
    return render(
        request,
        "checkin/event_checkin.html",
        {
            "event": event,
            "query": query,
            "people": people,
            "counts": counts,
            "more": counts.get("matching", 0) - len(people),
            "walk_in_form": WalkInForm(),
            "over": event.has_started(),
            # Over (or called off): the list says who came; nobody is checked in or out any more.
            "closed": event.is_past() or event.is_cancelled,
            # Before its day a check-in is most likely a test or a slip, and it would count as attendance.
            "before_the_day": event.local_start.date() > timezone.localtime(timezone=event.local_time_zone).date(),
            "next": request.get_full_path(),
        },
    )


@staff_member_required
@require_POST
def check_in(request, pk, registration_pk):
    event = _door_event(request, pk)
    registration = _registration(event, registration_pk)
    try:
        _report(request, event, services.check_in(registration=registration, actor=request.user))
    except RegistrationError as error:
        messages.error(request, error.message)
    return _back(request, event)


@staff_member_required
@require_POST
def undo(request, pk, registration_pk):
    event = _door_event(request, pk)
    registration = _registration(event, registration_pk)
    try:
        undone = services.undo_check_in(registration=registration, actor=request.user)
    except RegistrationError as error:
        messages.error(request, error.message)
    else:
        if undone:
            messages.success(request, _("Check-in of %(name)s undone.") % {"name": registration.name})
        else:
            messages.info(request, _("%(name)s was not checked in.") % {"name": registration.name})
    return _back(request, event)


@staff_member_required
@require_POST
def walk_in(request, pk):
    event = _door_event(request, pk)
    form = WalkInForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            result = services.admit_walk_in(
                event=event,
                name=data["name"],
                email=data["email"],
                affiliation=data["affiliation"],
                position=data["position"],
                over_capacity=data["over_capacity"],
                actor=request.user,
            )
        except RegistrationError as error:
            form.add_error(None, error.message)
        else:
            _report(request, event, result)
            return redirect("checkin:event", pk=event.pk)
    return render(
        request,
        "checkin/walk_in.html",
        {"event": event, "walk_in_form": form},
        status=400,
    )


@staff_member_required
@require_POST
def no_shows(request, pk):
    event = _door_event(request, pk)
    try:
        marked = services.mark_no_shows(event=event, actor=request.user)
    except RegistrationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(count)s marked as no-show.") % {"count": marked})
    return redirect("checkin:event", pk=event.pk)


@never_cache
@require_http_methods(["GET", "POST"])
def scan(request, token):
    """What a ticket's QR code opens. Door staff of the talk see the person and check them in;
    anyone else learns only that this is a check-in code."""
    try:
        registration = Registration.objects.select_related("event__venue", "event__series").from_token(
            token, salt=CHECKIN_LINK_SALT
        )
    except Registration.DoesNotExist:
        return render(request, "checkin/scan_invalid.html", status=404)
    event = registration.event
    if not (request.user.is_authenticated and request.user.is_staff and may_check_in(request.user, event)):
        login_url = reverse("admin:login") + "?next=" + request.path
        # Staff signed in for other series learn only that this talk is not theirs, nothing about it.
        signed_in = request.user.is_authenticated and request.user.is_staff
        return render(request, "checkin/scan_public.html", {"login_url": login_url, "signed_in": signed_in}, status=403)
    if request.method == "POST":
        try:
            _report(request, event, services.check_in(registration=registration, actor=request.user))
        except RegistrationError as error:
            messages.error(request, error.message)
        return redirect(request.path)
    return render(
        request,
        "checkin/scan.html",
        {
            "registration": registration,
            "event": event,
            "checked_in_at": when.time_of_day(event, registration.checked_in_at),
        },
    )
