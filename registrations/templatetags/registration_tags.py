from django import template
from django.utils import timezone

from ..forms import RegistrationForm
from ..models import Registration
from ..services import RegistrationError, check_registration_open, decide_status

register = template.Library()


def panel_state(event, now):
    """What the panel says: (state, message, waitlisted count); at most one query."""
    if event.status == event.Status.PUBLISHED and event.is_past(now):
        return "past", "This talk has already taken place.", None
    try:
        check_registration_open(event=event, now=now)
    except RegistrationError as error:
        return error.code, error.message, None
    waitlisted = Registration.objects.waitlisted().filter(event_id=event.pk).count()
    try:
        status = decide_status(event=event, waitlisted_count=waitlisted)
    except RegistrationError as error:
        return error.code, error.message, waitlisted
    if status == Registration.Status.CONFIRMED:
        return "open", f"{event.seats_left} of {event.capacity} seats left", waitlisted
    return "waitlist", "Full – join the waiting list", waitlisted


@register.inclusion_tag("registrations/panel.html", takes_context=True)
def registration_panel(context, event):
    """The registration box of the talk page: its state, and the form while one can register."""
    now = context.get("now") or timezone.now()
    state, message, waitlisted = panel_state(event, now)
    can_register = state in ("open", "waitlist")
    return {
        "event": event,
        "request": context.get("request"),
        "state": state,
        "message": message,
        "waitlisted": waitlisted,
        "can_register": can_register,
        "form": (context.get("registration_form") or RegistrationForm(questions=event.questions.all()))
        if can_register
        else None,
    }
