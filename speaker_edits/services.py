"""Every change of speaker edits: links sent and revoked, a speaker's edit saved, the update to registrants decided."""

import datetime

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from events.models import Event, SeriesMember, Speaker, SpeakerPhoto
from events.services import erase_unused_photos
from events.when import moment_text
from outbox.services import queue_mail
from registrations.models import Registration
from registrations.services import send_event_update
from seminar_site import i18n
from seminar_site.errors import DomainError

from . import emails
from .fields import EVENT_FIELDS, FIELDS, INVITE_FIELDS, SPEAKER_FIELDS
from .images import ProcessedPhoto
from .models import LINK_SALT, SpeakerEdit, SpeakerInvitation

# The latest deadline an organizer may give a link.
MAX_LINK_DAYS = 180
# How long a preview may wait for its confirmation.
DRAFT_MAX_AGE = datetime.timedelta(hours=24)
# A photo no speaker shows is erased this long after the last preview that showed it (then no draft can save it).
UNSAVED_PHOTO_AGE = DRAFT_MAX_AGE + datetime.timedelta(hours=1)


class SpeakerEditError(DomainError):
    """A speaker-edit rule said no."""


def default_deadline(event: Event, *, now=None) -> datetime.datetime:
    """SPEAKER_EDIT_LINK_DAYS from now, but never after the talk ends; for a talk that is over (the
    speaker sends the slides), SPEAKER_EDIT_LINK_DAYS from now."""
    now = now or timezone.now()
    later = now + datetime.timedelta(days=settings.SPEAKER_EDIT_LINK_DAYS)
    return later if event.is_past(now) else min(later, event.end)


def current_values(*, event: Event, speaker: Speaker) -> dict[str, str]:
    """What the speaker's form starts from: the talk's and the speaker's texts, and the photo's digest ("" for none)."""
    return {
        "title": event.title,
        "abstract": event.abstract,
        "affiliation": speaker.affiliation,
        "website": speaker.website,
        "bio": speaker.bio,
        "photo": speaker.photo_id or "",
    }


def invite_speaker(
    *, event: Event, speaker: Speaker, email: str, expires_at: datetime.datetime, actor=None, now=None
) -> SpeakerInvitation:
    """Send `speaker` a link to edit `event` (title, abstract) and their profile until `expires_at`.

    Earlier links for the same talk and speaker stop working: the newest is
    the one that counts. The email goes through the outbox once this commits.
    Raises SpeakerEditError when `speaker` is not a speaker of `event`, or
    `expires_at` is past or more than MAX_LINK_DAYS away.
    """
    now = now or timezone.now()
    if expires_at <= now:
        raise SpeakerEditError(_("Choose a deadline in the future."), code="deadline_past")
    if expires_at > now + datetime.timedelta(days=MAX_LINK_DAYS):
        raise SpeakerEditError(
            _("Choose a deadline within %(days)s days.") % {"days": MAX_LINK_DAYS}, code="deadline_far"
        )
    with transaction.atomic():
        if not event.speakers.filter(pk=speaker.pk).exists():
            raise SpeakerEditError(
                _("%(speaker)s is not a speaker of this talk.") % {"speaker": speaker.name}, code="not_speaker"
            )
        SpeakerInvitation.objects.filter(event=event, speaker=speaker).usable(now).update(
            revoked_at=now, revoked_by=actor
        )
        invitation = SpeakerInvitation.objects.create(
            event=event, speaker=speaker, email=email.strip(), expires_at=expires_at, created_by=actor
        )
        queue_mail(kind=emails.INVITATION, to=invitation.email, about=invitation, data={"language": i18n.current()})
    return invitation


def revoke_invitation(*, invitation: SpeakerInvitation, actor=None, now=None) -> bool:
    """Stop `invitation`'s link working at once. Returns False, changing nothing, when it was already revoked."""
    now = now or timezone.now()
    updated = SpeakerInvitation.objects.filter(pk=invitation.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=actor
    )
    if updated:
        invitation.refresh_from_db(fields=["revoked_at", "revoked_by"])
    return bool(updated)


def invitation_from_token(*, event_id: int, token: str, now=None) -> SpeakerInvitation:
    """The invitation whose link is /speaker/talks/`event_id`/`token`/, if it still works.

    Raises SpeakerEditError: "invalid" for a token that is not ours, was
    altered or belongs to another talk; "revoked"; "expired"; "not_speaker"
    when the speaker was taken off the talk since.
    """
    invalid = SpeakerEditError(
        _("This link is not valid. Check that you copied all of it, or ask the organizers for a new one."),
        code="invalid",
    )
    try:
        value = signing.Signer(salt=LINK_SALT).unsign(token)
    except signing.BadSignature:
        raise invalid from None
    signed_event, _sep, key = value.partition(":")
    if signed_event != str(event_id) or not key:
        raise invalid
    invitation = (
        SpeakerInvitation.objects.select_related("event__series", "event__venue", "speaker")
        .filter(event_id=event_id, key=key)
        .first()
    )
    if invitation is None:
        raise invalid
    if invitation.revoked_at is not None:
        raise SpeakerEditError(
            _("The organizers have withdrawn this link. Ask them for a new one if you still need to make changes."),
            code="revoked",
        )
    if not invitation.is_usable(now):
        raise SpeakerEditError(
            _("This link expired on %(date)s. Ask the organizers for a new one if you still need to make changes.")
            % {"date": moment_text(invitation.event, invitation.expires_at)},
            code="expired",
        )
    if not invitation.event.speakers.filter(pk=invitation.speaker_id).exists():
        raise SpeakerEditError(
            _("You are no longer listed as a speaker of this talk, so this link no longer works."), code="not_speaker"
        )
    return invitation


def store_photo(*, photo: ProcessedPhoto, now=None) -> SpeakerPhoto:
    """Keep a processed photo (once per content), so the preview can show it before it is saved.

    Until a speaker shows it, it is erased UNSAVED_PHOTO_AGE after this (or
    after the last renew_photo) by erase_unsaved_photos.
    """
    stored, created = SpeakerPhoto.objects.get_or_create(
        digest=photo.digest, defaults={"data": photo.data, "width": photo.width, "height": photo.height}
    )
    if not created:
        renew_photo(digest=stored.digest, now=now)
    return stored


def renew_photo(*, digest: str, now=None) -> bool:
    """Keep a stored photo for another UNSAVED_PHOTO_AGE: a new preview shows it. False when it is gone."""
    return bool(SpeakerPhoto.objects.filter(digest=digest).update(created_at=now or timezone.now()))


def discard_photo(*, digest: str) -> None:
    """Erase a photo uploaded for a preview that the speaker replaced by another, unless a speaker shows it."""
    erase_unused_photos(digests=[digest])


def erase_unsaved_photos(*, now=None) -> int:
    """Erase the photos no speaker shows that no preview showed for UNSAVED_PHOTO_AGE; run by the sweeper.

    These are photos uploaded for a preview never saved, and any replaced
    photo whose erasing failed. Returns how many were erased.
    """
    return erase_unused_photos(uploaded_before=(now or timezone.now()) - UNSAVED_PHOTO_AGE)


def organizer_addresses(event: Event) -> list[str]:
    """The series' contact address and every organizer's account address, each once whatever its letter case."""
    addresses = [event.series.organizer_email]
    addresses += (
        SeriesMember.objects.filter(series=event.series_id, role=SeriesMember.Role.ORGANIZER)
        .exclude(user__email="")
        .order_by(Lower("user__email"))
        .values_list("user__email", flat=True)
    )
    seen, unique = set(), []
    for address in addresses:
        if address and address.strip().lower() not in seen:
            seen.add(address.strip().lower())
            unique.append(address.strip())
    return unique


def save_edit(
    *, invitation: SpeakerInvitation, base: dict, values: dict, draft_id: str, now=None
) -> tuple[SpeakerEdit | None, bool]:
    """Apply the speaker's confirmed preview: `values` replace the fields that differ from `base`.

    `base` is what the form started from and `values` what the speaker
    previewed (both as current_values() gives them; `values` validated by
    SpeakerForm, its photo already stored). Returns (edit, True) when saved;
    (earlier edit, False) when this preview was saved before (a double
    submit), and (None, False) when nothing differs. The organizers are told
    what changed; when registrants' invites show a changed field, the update
    to them waits for an organizer's decision (decide_invite_update).

    Raises SpeakerEditError when the link stopped working ("revoked",
    "expired", "not_speaker") or someone else changed one of these fields
    since the form was opened ("changed_meanwhile").
    """
    now = now or timezone.now()
    with transaction.atomic():
        event = Event.objects.select_for_update(of=("self",)).select_related("series").get(pk=invitation.event_id)
        invitation = invitation_from_token(event_id=event.pk, token=invitation.token, now=now)
        earlier = SpeakerEdit.objects.filter(draft_id=draft_id).first()
        if earlier is not None:
            return earlier, False
        speaker = Speaker.objects.select_for_update().get(pk=invitation.speaker_id)
        current = current_values(event=event, speaker=speaker)
        changed = [name for name in FIELDS if values[name] != base[name]]
        if any(current[name] != base[name] for name in changed):
            raise SpeakerEditError(
                _("Someone changed these details while you were editing. Look at them again, then save."),
                code="changed_meanwhile",
            )
        changed = [name for name in changed if values[name] != current[name]]
        if not changed:
            return None, False
        # Locked: erasing it (it shows nowhere yet) waits for this commit, then finds it shown and keeps it.
        new_photo = values["photo"] if "photo" in changed else ""
        if new_photo and not SpeakerPhoto.objects.select_for_update().filter(digest=new_photo).exists():
            raise SpeakerEditError(_("Your new photo was lost. Upload it again, please."), code="photo_missing")
        for name in changed:
            if name == "photo":
                speaker.photo_id = values["photo"] or None
            else:
                setattr(event if name in EVENT_FIELDS else speaker, name, values[name])
        event_fields = [name for name in changed if name in EVENT_FIELDS]
        if event_fields:
            event.save(update_fields=[*event_fields, "updated_at"])
        speaker_fields = [name for name in changed if name in SPEAKER_FIELDS]
        if speaker_fields:
            speaker.save(update_fields=speaker_fields)
        invite_changes = sorted({INVITE_FIELDS[name] for name in changed if name in INVITE_FIELDS})
        asks = (
            bool(invite_changes)
            and event.status == Event.Status.PUBLISHED
            and Registration.objects.filter(event=event).confirmed().exists()
        )
        edit = SpeakerEdit.objects.create(
            invitation=invitation,
            event=event,
            speaker=speaker,
            draft_id=draft_id,
            before={name: current[name] for name in changed},
            after={name: values[name] for name in changed},
            invite_changes=invite_changes,
            invite_update=SpeakerEdit.InviteUpdate.PENDING if asks else SpeakerEdit.InviteUpdate.NOT_NEEDED,
        )
        for address in organizer_addresses(event):
            queue_mail(kind=emails.CHANGED, to=address, about=edit, once_key=f"to:{address.lower()}")
    return edit, True


def decide_invite_update(*, event: Event, send: bool, actor=None, now=None) -> int:
    """Answer every pending "send registrants an update?" of `event`'s speaker edits.

    With `send`, the confirmed registrants get one update covering all those
    changes (registrations.services.send_event_update, once this commits);
    without, their calendars keep the talk as it was. Returns the number of
    edits answered: 0 when another organizer answered first (nothing is sent
    twice). Raises nothing of its own.
    """
    now = now or timezone.now()
    with transaction.atomic():
        pending = list(SpeakerEdit.objects.select_for_update().filter(event=event).update_pending())
        if not pending:
            return 0
        SpeakerEdit.objects.filter(pk__in=[edit.pk for edit in pending]).update(
            invite_update=SpeakerEdit.InviteUpdate.SENT if send else SpeakerEdit.InviteUpdate.DECLINED,
            invite_update_decided_by=actor,
            invite_update_decided_at=now,
        )
        if send:
            changes = frozenset(name for edit in pending for name in edit.invite_changes)
            transaction.on_commit(lambda: send_event_update(event=event, changed_fields=changes, actor=actor))
    return len(pending)
