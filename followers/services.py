"""Every change to who follows a series, and the queuing of what they are sent.

Mail goes through the outbox only: one message per follower per announcement
or digest (its once-per-key rule), after commit, retried, bounce-aware. The
fan-out to many followers is queued work (tasks.fan_out), never done in a web
request.
"""

import datetime
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from events.models import Event, Series
from events.schedule import shift_local
from outbox import services as outbox
from outbox.models import OutgoingMail
from seminar_site import i18n
from seminar_site.addresses import ascii_address
from seminar_site.errors import DomainError

from . import emails
from .models import Dispatch, Follower

# Asking again for the same address within this time sends nothing new.
CONFIRMATION_RESEND_AFTER = datetime.timedelta(minutes=15)
# A digest found due later than this (the sweeper was down) is not sent: its week has begun.
DIGEST_LATE_LIMIT = datetime.timedelta(hours=6)
# A dispatch whose fan-out task has not run after this long lost its task: the sweep queues it again.
FAN_OUT_GRACE = datetime.timedelta(minutes=5)


class FollowError(DomainError):
    """A following rule said no."""


def confirm_link_max_age() -> datetime.timedelta:
    return datetime.timedelta(days=settings.FOLLOW_LINK_DAYS)


def follow(*, series: Series, email: str) -> Follower | None:
    """Ask for `email` to follow `series`: queue the one confirmation mail, at most every few minutes.

    Double opt-in: nothing but this confirmation is ever sent to the address
    until its link is used. An address that already follows (confirmed) gets
    nothing; one whose confirmation went out less than
    CONFIRMATION_RESEND_AFTER ago gets nothing new. The caller shows the same
    answer whatever happened, so the form tells nobody who follows.

    Returns the follower row (None when a simultaneous request created it).
    The address is stored with its domain in ASCII (seminar_site/addresses.py).
    """
    email = ascii_address(email.strip())
    now = timezone.now()
    with transaction.atomic():
        follower = Follower.objects.select_for_update().active().with_address(email).filter(series=series).first()
        if follower is None:
            try:
                with transaction.atomic():
                    follower = Follower.objects.create(
                        series=series, email=email, language=i18n.current(), confirmation_sent_at=now
                    )
            except IntegrityError:
                # Another request for the same address won the race and sends the confirmation.
                return None
            outbox.queue_mail(kind=emails.CONFIRM, to=follower.email, about=follower)
            return follower
        if follower.confirmed_at is not None:
            return follower
        if follower.confirmation_sent_at is not None and now - follower.confirmation_sent_at < (
            CONFIRMATION_RESEND_AFTER
        ):
            return follower
        follower.confirmation_sent_at = now
        follower.save(update_fields=["confirmation_sent_at"])
        outbox.queue_mail(kind=emails.CONFIRM, to=follower.email, about=follower)
    return follower


def confirm(*, follower: Follower, wants_announcements: bool, wants_digest: bool) -> Follower:
    """Confirm the address (the link in the confirmation mail was used) with what the follower wants.

    Confirming again only changes the choice. Raises FollowError "stopped"
    for a follow that was unsubscribed (a new one starts from the form),
    "nothing_chosen" when neither announcements nor the digest is chosen.
    """
    with transaction.atomic():
        locked = _lock_to_choose(follower, wants_announcements=wants_announcements, wants_digest=wants_digest)
        locked.wants_announcements, locked.wants_digest = wants_announcements, wants_digest
        locked.confirmed_at = locked.confirmed_at or timezone.now()
        locked.save(update_fields=["wants_announcements", "wants_digest", "confirmed_at"])
    return locked


def change_choices(*, follower: Follower, wants_announcements: bool, wants_digest: bool) -> Follower:
    """Change what a confirmed follower gets (the "change what you get" link of their emails).

    Raises FollowError "stopped" for a follow that was unsubscribed or
    erased, "not_confirmed" for an address never confirmed (only its
    confirmation link starts a follow: double opt-in), "nothing_chosen" when
    neither announcements nor the digest is chosen. Messages already queued
    are checked against the new choice just before they are sent.
    """
    with transaction.atomic():
        locked = _lock_to_choose(follower, wants_announcements=wants_announcements, wants_digest=wants_digest)
        if locked.confirmed_at is None:
            raise FollowError(
                _("This address has not confirmed yet: use the link in the confirmation email."),
                code="not_confirmed",
            )
        locked.wants_announcements, locked.wants_digest = wants_announcements, wants_digest
        locked.save(update_fields=["wants_announcements", "wants_digest"])
    return locked


def _lock_to_choose(follower: Follower, *, wants_announcements: bool, wants_digest: bool) -> Follower:
    """The follower's row, locked, once the choice is possible; FollowError "nothing_chosen" or "stopped"."""
    if not (wants_announcements or wants_digest):
        raise FollowError(_("Choose announcements, the weekly digest, or both."), code="nothing_chosen")
    # With its series: the page that answers names it.
    locked = Follower.objects.select_for_update(of=("self",)).select_related("series").get(pk=follower.pk)
    if not locked.is_current:
        raise FollowError(
            _("This address stopped following the series. To follow it again, use the form on its page."),
            code="stopped",
        )
    return locked


def send_manage_links(*, email: str, now: datetime.datetime | None = None) -> int:
    """Email `email` its link to change what it gets, one message per series it follows; return how many.

    For the "Change what you get" page. The address is compared as `follow`
    stores it (trimmed, any letter case, its domain in ASCII). Only confirmed
    follows that still stand get one (an address never confirmed follows
    through the series' form and its confirmation); a follow sent its link
    less than CONFIRMATION_RESEND_AFTER ago gets nothing new. The caller must
    not show the count: the page answers the same whether or not the address
    follows anything. Raises nothing.
    """
    email = ascii_address((email or "").strip())
    if not email:
        return 0
    since = (now or timezone.now()) - CONFIRMATION_RESEND_AFTER
    following = Follower.objects.confirmed().with_address(email)
    queued = 0
    with transaction.atomic():
        # Locked first: two requests at once see each other's message and send one.
        followers = list(following.select_for_update().order_by("pk"))
        if not followers:
            return 0
        sent_lately = set(
            OutgoingMail.objects.about(following)
            .filter(kind=emails.MANAGE_LINK, created_at__gt=since)
            .values_list("about_id", flat=True)
        )
        for follower in followers:
            if follower.pk not in sent_lately:
                outbox.queue_mail(kind=emails.MANAGE_LINK, to=follower.email, about=follower)
                queued += 1
    return queued


def unsubscribe(*, follower: Follower, because: str = Follower.Stop.UNSUBSCRIBED) -> bool:
    """Stop every mail to this follower, for good; return False when it had stopped already.

    Messages still waiting in the outbox are skipped (and the outbox checks
    again just before sending). Following again takes the form and a new
    confirmation.
    """
    with transaction.atomic():
        stopped = Follower.objects.filter(pk=follower.pk, unsubscribed_at__isnull=True).update(
            unsubscribed_at=timezone.now(), stopped_because=because
        )
        outbox.skip_pending(
            mails=OutgoingMail.objects.about(follower), reason=_("The follower unsubscribed before it went out.")
        )
    return bool(stopped)


def announce(*, event: Event) -> Dispatch | None:
    """Queue the announcement of a talk that just became public to the series' followers, once ever.

    Call it inside the transaction that publishes the talk. Does nothing when
    the talk is not to be announced (its "announce to followers" is unticked),
    is over already, or was announced before (a database constraint). The
    fan-out runs as a task once the transaction commits.
    """
    if not event.announce_to_followers or event.status != Event.Status.PUBLISHED or event.is_past():
        return None
    try:
        with transaction.atomic():
            dispatch = Dispatch.objects.create(kind=Dispatch.Kind.ANNOUNCEMENT, series_id=event.series_id, event=event)
    except IntegrityError:
        return None
    transaction.on_commit(partial(enqueue_fan_out, dispatch.pk), robust=True)
    return dispatch


def enqueue_fan_out(dispatch_id: int) -> None:
    from .tasks import fan_out  # tasks.py imports this module

    fan_out.enqueue(dispatch_id)


def fan_out(*, dispatch_id: int) -> int:
    """Queue one message of the dispatch to each confirmed follower who asked for it; return how many.

    Safe to run any number of times: the dispatch row is locked and marked
    done in one transaction, and the outbox allows one message per follower
    per dispatch whatever happens.
    """
    with transaction.atomic():
        dispatch = (
            Dispatch.objects.select_for_update(of=("self",))
            .select_related("event")
            .filter(pk=dispatch_id, fanned_out_at__isnull=True)
            .first()
        )
        if dispatch is None:
            return 0
        queued = 0
        announcing_nothing = dispatch.kind == Dispatch.Kind.ANNOUNCEMENT and (
            dispatch.event.status != Event.Status.PUBLISHED or dispatch.event.is_past()
        )
        if not announcing_nothing:
            kind = emails.KIND_OF_DISPATCH[dispatch.kind]
            followers = Follower.objects.wanting(dispatch.kind).filter(series_id=dispatch.series_id).order_by("pk")
            for follower in followers.only("pk", "email").iterator():
                mail = outbox.queue_mail(
                    kind=kind,
                    to=follower.email,
                    about=follower,
                    once_key=dispatch.once_key,
                    data={"dispatch": dispatch.pk},
                )
                queued += mail is not None
        Dispatch.objects.filter(pk=dispatch.pk).update(fanned_out_at=timezone.now(), recipient_count=queued)
    return queued


def last_digest_due(series: Series, *, now: datetime.datetime) -> datetime.datetime | None:
    """The latest moment at or before `now` when the series' weekly digest was due, on its own wall clock."""
    if not series.has_digest:
        return None
    zone = series.local_time_zone
    local_now = now.astimezone(zone)
    day = local_now.date() - datetime.timedelta(days=(local_now.weekday() - series.digest_weekday) % 7)
    due = datetime.datetime.combine(day, series.digest_time, tzinfo=zone)
    if due > now:
        due = shift_local(due, days=-7, zone=zone)
    return due


def queue_due_digests(*, now: datetime.datetime | None = None) -> int:
    """Start each weekly digest that has come due, and restart fan-outs whose task was lost; return how many.

    Run by `manage.py send_queued_mail` before every sweep. A digest is
    decided once per due time (a database constraint): with talks in its week,
    or recordings made public in the week before, it goes to the followers who
    asked for it; without, nobody gets anything.
    """
    now = now or timezone.now()
    started = 0
    # First the fan-outs whose task was lost (not those this run starts: theirs is queued on commit).
    lost = Dispatch.objects.unfinished().filter(created_at__lte=now - FAN_OUT_GRACE)
    for dispatch_id in lost.values_list("pk", flat=True):
        enqueue_fan_out(dispatch_id)
        started += 1
    for series in Series.objects.filter(digest_weekday__isnull=False, digest_time__isnull=False).select_related(
        "default_venue"
    ):
        due = last_digest_due(series, now=now)
        if due is None or now - due > DIGEST_LATE_LIMIT:
            continue
        if Dispatch.objects.filter(kind=Dispatch.Kind.DIGEST, series=series, due_at=due).exists():
            continue
        with transaction.atomic():
            try:
                with transaction.atomic():
                    dispatch = Dispatch.objects.create(kind=Dispatch.Kind.DIGEST, series=series, due_at=due)
            except IntegrityError:
                continue
            if emails.digest_has_news(dispatch):
                transaction.on_commit(partial(enqueue_fan_out, dispatch.pk), robust=True)
                started += 1
            else:
                Dispatch.objects.filter(pk=dispatch.pk).update(fanned_out_at=now, recipient_count=0)
    return started


def erase_personal_data(*, followers) -> int:
    """Erase the addresses of `followers` (a QuerySet), here and in the outbox; return how many.

    The rows stay, emptied, so the counts and the sending history stay true;
    their links stop working.
    """
    now = timezone.now()
    with transaction.atomic():
        rows = list(followers.select_for_update().filter(erased_at__isnull=True).values_list("pk", flat=True))
        if not rows:
            return 0
        erased = Follower.objects.filter(pk__in=rows)
        outbox.skip_pending(mails=OutgoingMail.objects.about(erased), reason=_("The follower's address was erased."))
        outbox.forget_recipients(mails=OutgoingMail.objects.about(erased))
        # A new key too: the old links (in mailboxes) point at nothing any more.
        erased.update(email="", erased_at=now, key=Concat(Value("erased-"), Cast("pk", CharField())))
    return len(rows)
