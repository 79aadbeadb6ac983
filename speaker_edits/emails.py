"""The emails of speaker edits as the outbox sends them: the link to the speaker, the changes to the organizers."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from events.models import SpeakerPhoto, photo_path
from events.when import SHORT, talk_when
from outbox.compose import compose, mailbox
from registrations.models import Registration
from seminar_site.i18n import in_language

from .fields import FIELD_LABELS, FIELDS
from .models import SpeakerEdit, SpeakerInvitation
from .pages import emailed_pages

INVITATION = "speaker_edits.invitation"
CHANGED = "speaker_edits.changed"


def _series_reply_to(event) -> list[str]:
    return [mailbox(event.series.organizer_name, event.series.organizer_email)]


def build_invitation(mail):
    """In the language the organizer used when sending it (the speaker's page then follows their browser)."""
    with in_language(mail.data.get("language")):
        return _invitation(mail)


def _invitation(mail):
    invitation = SpeakerInvitation.objects.select_related("event__series", "event__venue", "speaker").get(
        pk=mail.about_id
    )
    event = invitation.event
    # Decided when the email is written: a link sent after the talk is for its record, not its announcement.
    past = event.is_past()
    context = {
        "past": past,
        "invitation": invitation,
        "event": event,
        "series": event.series,
        "speaker": invitation.speaker,
        "when": talk_when(event),
        "deadline": timezone.localtime(invitation.expires_at, event.local_time_zone),
        "edit_url": invitation.url,
        "pages": emailed_pages(invitation),
        "site_url": settings.SITE_URL,
    }
    return compose(
        to=[mailbox(invitation.speaker.name, invitation.email)],
        reply_to=_series_reply_to(event),
        subject=(
            _("Your talk at the %(series)s: add to its record")
            if past
            else _("Your talk at the %(series)s: check its details")
        )
        % {"series": event.series.name},
        text=render_to_string("speaker_edits/email/invitation.txt", context),
        html=render_to_string("speaker_edits/email/invitation.html", context),
    )


def invitation_still_wanted(mail) -> str:
    invitation = mail.about
    if invitation is None or invitation.revoked_at is not None:
        return str(_("The link was revoked before this message went out."))
    if not invitation.is_usable():
        return str(_("The link expired before this message went out."))
    return ""


def stored_photos(edits) -> set[str]:
    """The digests of the photos `edits` mention that the site still has (a replaced or removed one is erased)."""
    digests = {side.get("photo") for edit in edits for side in (edit.before, edit.after)} - {None, ""}
    if not digests:
        return set()
    return set(SpeakerPhoto.objects.filter(digest__in=digests).values_list("digest", flat=True))


def change_rows(edit: SpeakerEdit, *, absolute: bool = True, stored: set[str] | None = None) -> list[dict]:
    """What changed, field by field, for the organizers' email (`absolute` photo URLs) and the staff page.

    A photo's row has `before_url` and `after_url`, empty for none or for one
    erased since (not in `stored`, stored_photos() of the edits shown; None
    to look it up), whose text then says so.
    """
    prefix = settings.SITE_URL if absolute else ""
    if stored is None and "photo" in edit.after:
        stored = stored_photos([edit])
    rows = []
    for name in FIELDS:
        if name not in edit.after:
            continue
        row = {"name": name, "label": FIELD_LABELS[name], "before": edit.before.get(name, "")}
        row["after"] = edit.after[name]
        if name == "photo":
            for side in ("before", "after"):
                digest = row[side]
                row[f"{side}_url"] = prefix + photo_path(digest) if digest in stored else ""
                row[side] = row[f"{side}_url"] or (_("(removed from the site)") if digest else "")
        rows.append(row)
    return rows


def build_changed(mail):
    """In the site's language (LANGUAGE_CODE): organizers share the staff side's language, whoever the speaker is."""
    with in_language(mail.data.get("language")):
        return _changed(mail)


def _changed(mail):
    edit = SpeakerEdit.objects.select_related("event__series", "event__venue", "speaker").get(pk=mail.about_id)
    event = edit.event
    context = {
        "edit": edit,
        "event": event,
        "series": event.series,
        "speaker": edit.speaker,
        "when": talk_when(event),
        "rows": change_rows(edit),
        "pending": edit.invite_update == SpeakerEdit.InviteUpdate.PENDING,
        "registrant_count": Registration.objects.filter(event=event).confirmed().count(),
        "staff_url": settings.SITE_URL + reverse("speaker_edits:event", args=[event.pk]),
        "event_url": settings.SITE_URL + event.get_absolute_url(),
        "site_url": settings.SITE_URL,
    }
    return compose(
        to=[mail.recipient],
        subject=_("%(speaker)s changed %(talk)s (%(when)s)")
        % {"speaker": edit.speaker.name, "talk": event.title, "when": talk_when(event, style=SHORT)},
        text=render_to_string("speaker_edits/email/changed.txt", context),
        html=render_to_string("speaker_edits/email/changed.html", context),
    )


def staff_scope(user, roles) -> Q:
    """Links sent to the speakers of the user's series' talks, and the change reports about those talks."""
    return Q(
        kind=INVITATION,
        about_type=ContentType.objects.get_for_model(SpeakerInvitation),
        about_id__in=SpeakerInvitation.objects.managed_by(user, roles=roles).values("pk"),
    ) | Q(
        kind=CHANGED,
        about_type=ContentType.objects.get_for_model(SpeakerEdit),
        about_id__in=SpeakerEdit.objects.managed_by(user, roles=roles).values("pk"),
    )
