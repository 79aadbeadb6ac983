from dataclasses import dataclass
from functools import partial

from django import template
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from events.models import Event
from seminar_site import pagecache
from seminar_site.statements import Parameter, PreparedGet

from ..forms import RegistrationForm
from ..models import Registration
from ..services import RegistrationError, check_registration_open, decide_status, has_free_place, places

register = template.Library()


@dataclass(frozen=True)
class AttendanceOption:
    """One way to attend a talk, as the panel shows it: what registering that way gives now."""

    attendance: str
    status: str | None  # confirmed or waitlisted; None when refused
    code: str  # "open", "waitlist", or why registering this way is refused ("full", "waitlist_full")
    message: str
    waitlisted: int


def _option_message(event, attendance, status, error) -> str:
    online = attendance == Registration.Attendance.ONLINE
    taken, capacity = places(event, attendance)
    if error is not None:
        return error.message
    if status == Registration.Status.WAITLISTED:
        return (
            _("Online: full – join the waiting list")
            if online and event.has_in_person
            else _("Full – join the waiting list")
        )
    if online and capacity is None:
        return _("Online: open to everyone")
    left = {"left": capacity - taken, "capacity": capacity}
    if online:
        return _("Online: %(left)s of %(capacity)s places left") % left
    if event.has_online:
        return _("In the room: %(left)s of %(capacity)s seats left") % left
    return _("%(left)s of %(capacity)s seats left") % left


def attendance_options(event, waiting: dict[str, int] | None = None) -> list[AttendanceOption]:
    """Each way the talk can be attended, with what registering that way gives now; one query.

    `waiting` (attendance -> people on its waiting list), when the caller read it already, saves the query.
    """
    kinds = [
        kind
        for kind, offered in (
            (Registration.Attendance.IN_PERSON, event.has_in_person),
            (Registration.Attendance.ONLINE, event.has_online),
        )
        if offered
    ]
    if waiting is None:
        waiting = dict(
            Registration.objects.waitlisted()
            .filter(event_id=event.pk)
            .order_by()
            .values_list("attendance")
            .annotate(n=Count("pk"))
        )
    options = []
    for kind in kinds:
        status, error = None, None
        try:
            status = decide_status(event=event, waitlisted_count=waiting.get(kind, 0), attendance=kind)
        except RegistrationError as refusal:
            error = refusal
        code = error.code if error else "open" if status == Registration.Status.CONFIRMED else "waitlist"
        message = _option_message(event, kind, status, error)
        options.append(AttendanceOption(kind, status, code, message, waiting.get(kind, 0)))
    return options


def panel_state(event, now, waiting: dict[str, int] | None = None):
    """What the panel says: (state, message, waitlisted count, options); at most one query (none with `waiting`).

    `options` holds an AttendanceOption per way of attending while registration is open.
    """
    if event.status == event.Status.PUBLISHED and event.is_past(now):
        # The page's banner says the talk took place; the panel says what that means for registering.
        return "past", _("Registration closed when the talk began."), None, []
    try:
        check_registration_open(event=event, now=now)
    except RegistrationError as error:
        return error.code, error.message, None, []
    options = attendance_options(event, waiting)
    open_options = [option for option in options if option.status is not None]
    waitlisted = sum(option.waitlisted for option in options)
    if not open_options:
        return options[0].code, options[0].message, waitlisted, options
    first = open_options[0]
    if any(option.status == Registration.Status.CONFIRMED for option in open_options):
        confirmed = next(option for option in open_options if option.status == Registration.Status.CONFIRMED)
        return "open", confirmed.message, waitlisted, options
    return "waitlist", first.message, waitlisted, options


def _seats(event, state, message, waitlisted, options) -> tuple[tuple, str]:
    """The panel's seats part: (its shape, its HTML).

    The shape is what the talk page around the part shows of the seats: which
    form and button, and what the page's structured data says is available
    (a free place or none, each way of attending).
    """
    shape = (
        state,
        tuple((option.attendance, option.status, option.code) for option in options),
        tuple(has_free_place(event, kind) for kind in Registration.Attendance.values),
    )
    html = render_to_string(
        "registrations/_panel_seats.html",
        {"event": event, "state": state, "message": message, "waitlisted": waitlisted, "options": options},
    )
    return shape, html


def _waiting(attendance: str):
    people = (
        Registration.objects.waitlisted()
        .filter(event=OuterRef("pk"), attendance=attendance)
        .order_by()
        .values("event")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(people, output_field=IntegerField()), Value(0))


# After every sign-up each worker reads the talk's seats and waiting lists again, in one statement compiled once
# (seminar_site/statements.py). The venue (its time zone) is read only when a date is shown.
_SEATS = PreparedGet(
    Event,
    lambda: Event.objects.annotate(
        **{f"waiting_{attendance}": _waiting(attendance) for attendance in Registration.Attendance.values}
    ).filter(pk=Parameter("pk", Event._meta.pk)),
)


def read_seats(event_pk: int) -> tuple[tuple | None, str]:
    """The panel's seats part as it is now, and its shape: what the page cache reads again after a sign-up."""
    try:
        event = _SEATS.get(pk=event_pk)
    except Event.DoesNotExist:
        return None, ""  # no shape fits: the page is rendered again (and answers 404)
    waiting = {attendance: getattr(event, f"waiting_{attendance}") for attendance in Registration.Attendance.values}
    return _seats(event, *panel_state(event, timezone.now(), waiting))


@register.inclusion_tag("registrations/panel.html", takes_context=True)
def registration_panel(context, event):
    """The registration box of the talk page: its state, and the form while one can register.

    The seats it shows change with every sign-up, the rest rarely: they are
    the page cache's live part (the page is not rendered again for them).
    """
    now = context.get("now") or timezone.now()
    state, message, waitlisted, options = panel_state(event, now)
    can_register = state in ("open", "waitlist")
    form = None
    if can_register:
        form = context.get("registration_form") or RegistrationForm(
            questions=event.questions.all(),
            event=event,
            initial={"attendance": next(o.attendance for o in options if o.status == Registration.Status.CONFIRMED)}
            if state == "open"
            else None,
        )
    shape, html = _seats(event, state, message, waitlisted, options)
    seats = pagecache.live_part(html=html, shape=shape, read=partial(read_seats, event.pk))
    return {
        "event": event,
        "request": context.get("request"),
        "state": state,
        "seats": mark_safe(seats),  # rendered from the template, or the page cache's marker
        "can_register": can_register,
        "form": form,
    }
