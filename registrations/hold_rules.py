"""When a sign-up must confirm by email, and until when: the one place that decides.

Settings are read at call time (tests and a changed environment take effect at once):

- `HOLD_AFTER` (default 10, or "off"): sign-ups one client address may make for a talk in an
  hour before the next ones from it are held. Counted by the view in the shared cache
  (`seminar_site.limits.count_sign_up`) and passed in: the address itself is stored nowhere.
- `HOLD_DEMAND` (default "50%/10m", or "off"): a talk is in demand while more than that share
  of its places (the room's, or the online limit) was taken by sign-ups within that time.
- the "confirm by email" flag of the talk or of its series.
- `SEAT_HOLD_MINUTES` (default 30): how long a held person has to confirm.
- `OFFER_BEFORE_HOURS` (default 24) and `OFFER_MINUTES` (default 120): how close to the start a
  freed seat is offered rather than given, and for how long.

No deadline is ever past the talk's start. What a hold is and what happens to it is
`services/holds.py`.
"""

import datetime
import re
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from events.models import Event
from seminar_site.statements import Parameter, PreparedGet

from .models import Registration

HoldReason = Registration.HoldReason

_DEMAND = re.compile(r"(?P<percent>\d+)%/(?P<multiplier>\d*)(?P<unit>[smhd])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_hold_after(value) -> int | None:
    """HOLD_AFTER as a number of sign-ups (0 holds every one), None for "off"; ValueError for anything else."""
    text = str(value).strip().lower()
    if text == "off":
        return None
    if not text.isdigit():
        raise ValueError('not a number of sign-ups such as "10", nor "off"')
    return int(text)


def parse_demand(value) -> tuple[int, int] | None:
    """HOLD_DEMAND ("50%/10m" → (50, 600): percent of the places, seconds), None for "off"; ValueError otherwise."""
    text = str(value).strip().lower()
    if text == "off":
        return None
    match = _DEMAND.fullmatch(text)
    if not match or not 1 <= int(match["percent"]) <= 100 or int(match["multiplier"] or 1) < 1:
        raise ValueError('not a share of the places within a time, such as "50%/10m", nor "off"')
    return int(match["percent"]), int(match["multiplier"] or 1) * _SECONDS[match["unit"]]


@dataclass(frozen=True)
class SignUpHold:
    """Why a new sign-up must confirm by email: `seat` if it gets a seat, `waitlist` if it joins
    the waiting list ("" for no confirmation)."""

    seat: str = ""
    waitlist: str = ""


NO_HOLD = SignUpHold()


def sign_up_hold(*, event, attendance: str, signups_from_address: int | None, now: datetime.datetime) -> SignUpHold:
    """Whether a sign-up for `event` must confirm by email, and why.

    `signups_from_address` is how many sign-ups the client's address has made
    for the talk in the current hour, this one included (None when unknown:
    the cache was unreachable, or the sign-up did not come over the web).
    The organizers' flag and the address rule hold whatever the sign-up gets,
    a seat or a waiting-list place; demand holds seats only. Reads the talk's
    counters as given, so `event` must have been read recently, as a request
    reads it (no lock needed: a rush is a rush whether or not the last few
    sign-ups are counted), and, for demand, counts the recent sign-ups of the
    talk in one query, only once more than the share of its places is taken.
    """
    if event.asks_confirmation_by_email:
        return SignUpHold(seat=HoldReason.CONFIRM_BY_EMAIL, waitlist=HoldReason.CONFIRM_BY_EMAIL)
    limit = parse_hold_after(settings.HOLD_AFTER)
    if limit is not None and signups_from_address is not None and signups_from_address > limit:
        return SignUpHold(seat=HoldReason.ADDRESS, waitlist=HoldReason.ADDRESS)
    if in_demand(event=event, attendance=attendance, now=now):
        return SignUpHold(seat=HoldReason.DEMAND)
    return NO_HOLD


def in_demand(*, event, attendance: str, now: datetime.datetime) -> bool:
    """More than HOLD_DEMAND's share of the places of `attendance` went to sign-ups within its time.

    Never while none is left: a full talk puts people on its waiting list, with nothing to hold.
    """
    demand = parse_demand(settings.HOLD_DEMAND)
    online = attendance == Registration.Attendance.ONLINE
    capacity, taken = (
        (event.online_capacity, event.online_seats_taken) if online else (event.capacity, event.seats_taken)
    )
    if demand is None or not capacity or taken >= capacity:
        return False
    percent, seconds = demand
    if taken * 100 <= percent * capacity:
        # The recent sign-ups holding places are some of the `taken`: not past the share yet, whenever they came.
        return False
    since = now - datetime.timedelta(seconds=seconds)
    try:
        recent = _RECENT_SIGN_UPS.get(pk=event.pk, attendance=attendance, since=since).recent_sign_ups
    except Event.DoesNotExist:
        return False
    return recent * 100 > percent * capacity


def _talk_with_recent_sign_ups():
    """The talk `pk` with `recent_sign_ups`: its registrations of `attendance` since `since` that hold a place."""
    recent = (
        Registration.objects.filter(
            event=OuterRef("pk"),
            attendance=Parameter("attendance", Registration._meta.get_field("attendance")),
            created_at__gte=Parameter("since", Registration._meta.get_field("created_at")),
        )
        .with_place()
        .order_by()
        .values("event")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Event.objects.filter(pk=Parameter("pk", Event._meta.pk)).annotate(
        recent_sign_ups=Coalesce(Subquery(recent), 0)
    )


# Once a talk is past its share, every sign-up for it asks: compiled once (seminar_site/statements.py).
_RECENT_SIGN_UPS = PreparedGet(Event, _talk_with_recent_sign_ups)


def hold_deadline(*, event, now: datetime.datetime) -> datetime.datetime:
    """Until when a held seat (or waiting-list place) waits to be confirmed: SEAT_HOLD_MINUTES, never past the start."""
    return min(now + datetime.timedelta(minutes=settings.SEAT_HOLD_MINUTES), event.start)


def offers_seats(*, event, now: datetime.datetime) -> bool:
    """Whether a seat freed now is offered (OFFER_BEFORE_HOURS or less before the start) rather than given."""
    return now >= event.start - datetime.timedelta(hours=settings.OFFER_BEFORE_HOURS)


def offer_deadline(*, event, now: datetime.datetime) -> datetime.datetime:
    """Until when an offered seat waits: OFFER_MINUTES, never past the start."""
    return min(now + datetime.timedelta(minutes=settings.OFFER_MINUTES), event.start)
