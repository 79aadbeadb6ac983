"""State changes of talks that reach beyond their row: scheduling the next one, cancelling one,
erasing photos no speaker shows."""

import datetime
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.text import slugify
from django.utils.translation import gettext as _

from seminar_site.errors import DomainError

from .models import Event, SpeakerPhoto
from .schedule import shift_local

# Fields a copy gets fresh rather than copied, besides every field organizers
# cannot edit (seat counters, calendar sequence, timestamps). Anything else on
# the talk (venue, capacities, waiting-list rules, attendance mode, and whatever
# later apps add) is copied as is.
_NOT_COPIED = {"id", "slug", "status", "cancellation_note"}
_SHIFTED = ("start", "end", "registration_opens", "registration_closes")
_SPEAKER_TEXTS = ("title", "abstract")


class EventError(DomainError):
    """A rule about talks said no."""


def unique_slug(base: str, *, max_length: int = 120) -> str:
    base = slugify(base)[: max_length - 4].strip("-") or "talk"
    slug, n = base, 2
    while Event.objects.filter(slug=slug).exists():
        suffix = f"-{n}"
        slug, n = base[: max_length - len(suffix)] + suffix, n + 1
    return slug


def duplicate_event(
    *, event: Event, weeks: int = 1, copy_speaker_texts: bool = False, copy_stream_link: bool = False
) -> Event:
    """A draft copy of `event`, `weeks` weeks later, for an organizer to complete and publish.

    The copy keeps the series, venue, capacity, waiting-list rules and the
    registration form's questions; its times and registration window move by
    whole weeks on the venue's wall clock (an 11:00 talk stays at 11:00 across a
    daylight-saving change). It gets a new slug, no registrations, no
    cancellation message and, unless `copy_speaker_texts`, no title, abstract
    or speakers (its title says it is to be announced). Its stream link is
    empty unless `copy_stream_link`: a new session usually has a new meeting.

    Raises ValueError when `weeks` is not between 1 and 52.
    """
    if not 1 <= weeks <= 52:
        raise ValueError("weeks must be between 1 and 52")
    source = Event.objects.select_related("series", "venue").get(pk=event.pk)
    zone = source.local_time_zone
    values = {
        field.attname: getattr(source, field.attname)
        for field in Event._meta.concrete_fields
        if field.editable and field.name not in _NOT_COPIED and field.name not in _SHIFTED
    }
    for name in _SHIFTED:
        moment = getattr(source, name)
        values[name] = shift_local(moment, days=7 * weeks, zone=zone) if moment else None
    if not copy_speaker_texts:
        values["title"] = _("%(series)s: talk to be announced") % {"series": source.series.name}
        values["abstract"] = ""
    if not copy_stream_link:
        values["stream_url"] = ""
    start_text = values["start"].astimezone(zone).date().isoformat()
    with transaction.atomic():
        copy = Event(**values, status=Event.Status.DRAFT, slug=unique_slug(f"{source.series.slug}-{start_text}"))
        copy.save(force_insert=True)
        if copy_speaker_texts:
            copy.speakers.set(source.speakers.all())
        source.questions.all().copy_to(copy)
    return copy


def check_cancellable(event: Event) -> None:
    """Raise EventError unless `event`, as loaded, may be cancelled now (the rules of `cancel_event`)."""
    if event.is_cancelled:
        raise EventError(_("This talk is cancelled already."), code="cancelled")
    if event.status != Event.Status.PUBLISHED:
        raise EventError(_("Only a published talk can be cancelled; this one is a draft."), code="draft")
    if event.is_past():
        raise EventError(_("This talk has already taken place: it cannot be cancelled."), code="over")


def cancel_event(*, event: Event, note: str = "") -> Event:
    """Cancel the published talk `event`, saying why and what happens instead in `note` (may be empty).

    Sets the status and the note and saves: the save raises the calendar
    sequence and, once committed, announces the cancellation
    (`signals.event_cancelled`), on which registrations emails everyone
    registered, with the note. The talk's row is locked first, so of two
    requests cancelling it at once (a double submit) only one does. Returns the
    cancelled talk.

    Raises EventError: "cancelled" (it is cancelled already: nobody is told
    again), "draft" (not published), "over" (it has ended), "note_too_long"
    (more characters than the note's max_length).
    """
    limit = Event._meta.get_field("cancellation_note").max_length
    if len(note) > limit:
        raise EventError(
            _("The message can be at most %(limit_value)d characters long (this one has %(show_value)d).")
            % {"limit_value": limit, "show_value": len(note)},
            code="note_too_long",
        )
    with transaction.atomic():
        # The lock a seat change takes too (registrations.services.base.lock_event): a sign-up
        # in flight either finishes first or finds the talk cancelled.
        locked = Event.objects.select_for_update(of=("self",), no_key=True).select_related("series", "venue")
        talk = locked.get(pk=event.pk)
        check_cancellable(talk)
        talk.status, talk.cancellation_note = Event.Status.CANCELLED, note
        talk.save(update_fields=["status", "cancellation_note", "updated_at"])
    return talk


def erase_unused_photos(
    *, digests: Iterable[str] | None = None, uploaded_before: datetime.datetime | None = None
) -> int:
    """Delete the uploaded photos among `digests` (all of them for None) that no speaker shows.

    With `uploaded_before`, only those stored (or last previewed) before then:
    a newer one may be in a speaker's preview, waiting to be saved. Their
    addresses answer 404 from then on. Returns how many were deleted: 0 when a
    speaker was given one of them meanwhile (the photo's PROTECT and foreign
    key), who keeps it. Call it outside a transaction (on commit): inside one,
    PostgreSQL checks that key only when the outer transaction commits. Raises
    nothing of its own.
    """
    photos = SpeakerPhoto.objects.unused()
    if digests is not None:
        photos = photos.filter(digest__in=list(digests))
    if uploaded_before is not None:
        photos = photos.filter(created_at__lt=uploaded_before)
    try:
        with transaction.atomic():
            # Only the keys: the collector would otherwise read every photo's bytes before deleting it.
            deleted, _by_model = photos.only("digest").delete()
    except (ProtectedError, IntegrityError):
        return 0
    return deleted
