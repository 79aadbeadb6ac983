from django.db import transaction
from django.db.models import F

from .. import audit
from ..models import SessionGeneration

# Where each session keeps the generation it was signed in under (staff.middleware compares).
SESSION_KEY = "staff.generation"


def current_generation(user) -> int:
    """The user's generation as read with them (staff.backends), or from the database."""
    try:
        return user.session_generation.number
    except SessionGeneration.DoesNotExist:
        return 0


def stored_generation(user) -> int:
    """The user's generation as the database has it now (when a session starts)."""
    return SessionGeneration.objects.filter(user=user).values_list("number", flat=True).first() or 0


def sign_out_everywhere(*, user, request=None, actor=None, reason: str = "") -> int:
    """End every session of `user` at their next request, on any host and with any session engine.

    The user's generation goes up; sessions signed in under an older one are
    signed out by staff.middleware. The session of `request`, if it is the
    user's own, ends too. Returns the new generation. Never raises.
    """
    with transaction.atomic():
        SessionGeneration.objects.get_or_create(user=user)
        SessionGeneration.objects.filter(user=user).update(number=F("number") + 1)
        number = SessionGeneration.objects.get(user=user).number
        audit.record(audit.Kind.SIGNED_OUT_EVERYWHERE, request=request, user=user, actor=actor, detail=reason)
    # The user object may be the one of a request still running: it now reads the new number.
    user.session_generation = SessionGeneration(user=user, number=number)
    return number
