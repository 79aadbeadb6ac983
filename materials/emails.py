"""The emails of materials as the outbox sends them: "the slides and recording are up", and a speaker's upload."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from events.when import talk_when
from outbox.compose import compose, mailbox
from outbox.services import queue_mail
from registrations.models import Registration
from seminar_site.i18n import in_language

from .models import Announcement, Kind, Material, registrant_path

ANNOUNCEMENT = "materials.announcement"
SPEAKER_ADDED = "materials.speaker_added"


def subject(event, materials) -> str:
    """Names what there is: "The slides and recording of “…” are up", the slides alone, the recording alone..."""
    kinds = {material.kind for material in materials}
    facts = {"title": event.title}
    if {Kind.SLIDES, Kind.RECORDING} <= kinds:
        return _("The slides and recording of “%(title)s” are up") % facts
    if Kind.RECORDING in kinds:
        return _("The recording of “%(title)s” is up") % facts
    if Kind.SLIDES in kinds:
        return _("The slides of “%(title)s” are up") % facts
    return _("The materials of “%(title)s” are up") % facts


def render(announcement: Announcement, registration: Registration) -> dict:
    """Subject, text and HTML of `announcement` as `registration` gets it: the materials they may see, their links."""
    event = announcement.event
    materials = [
        material.as_talk_material(registration)
        for material in Material.objects.for_registration(registration).order_by("created_at", "pk")
    ]
    context = {
        "announcement": announcement,
        "registration": registration,
        "event": event,
        "series": event.series,
        "when": talk_when(event),
        "materials": materials,
        "event_url": settings.SITE_URL + event.get_absolute_url(),
        "materials_url": settings.SITE_URL + registrant_path(registration),
        "site_url": settings.SITE_URL,
    }
    return {
        "subject": subject(event, materials),
        "text": render_to_string("materials/emails/announcement.txt", context),
        "html": render_to_string("materials/emails/announcement.html", context),
        "materials": materials,
    }


def build_announcement(mail):
    registration = mail.about
    announcement = Announcement.objects.select_related("event__series", "event__venue").get(
        pk=mail.data["announcement"]
    )
    with in_language(registration.language):
        parts = render(announcement, registration)
    series = announcement.event.series
    return compose(
        to=[mailbox(registration.name, registration.email)],
        reply_to=[mailbox(series.organizer_name, series.organizer_email)],
        subject=parts["subject"],
        text=parts["text"],
        html=parts["html"],
    )


def announcement_still_wanted(mail) -> str:
    registration = mail.about
    if registration is None or registration.erased_at is not None:
        return str(_("The registrant's personal data was erased before this message went out."))
    if registration.status == Registration.Status.CANCELLED:
        return str(_("The registration was cancelled before this message went out."))
    if not Material.objects.for_registration(registration).exists():
        return str(_("The talk's materials were removed before this message went out."))
    return ""


def queue_speaker_added(*, material: Material) -> None:
    """Tell the series' organizers that a speaker added a material through their link, once per address."""
    from speaker_edits.services import organizer_addresses

    for address in organizer_addresses(material.event):
        queue_mail(kind=SPEAKER_ADDED, to=address, about=material, once_key=f"to:{address.lower()}")


def build_speaker_added(mail):
    """In the site's language (LANGUAGE_CODE), as the speaker's other edits are reported to organizers."""
    material = Material.objects.select_related("event__series", "event__venue", "added_by_speaker").get(
        pk=mail.about_id
    )
    event = material.event
    with in_language(None):
        context = {
            "material": material,
            "event": event,
            "speaker": material.added_by_speaker,
            "when": talk_when(event),
            "link": material.link_for(),
            "admin_url": settings.SITE_URL + reverse("admin:materials_material_change", args=[material.pk]),
            "event_url": settings.SITE_URL + event.get_absolute_url(),
        }
        speaker = material.added_by_speaker.name if material.added_by_speaker else _("A speaker")
        return compose(
            to=[mail.recipient],
            subject=_("%(speaker)s added “%(title)s” to %(talk)s")
            % {"speaker": speaker, "title": material.display_title, "talk": event.title},
            text=render_to_string("materials/emails/speaker_added.txt", context),
        )


def speaker_added_still_wanted(mail) -> str:
    if mail.about is None:
        return str(_("The material was removed before this message went out."))
    return ""


def staff_scope(user, roles) -> Q:
    """Announcements to the registrations of the user's series, and the notes about their talks' materials."""
    return Q(
        kind=ANNOUNCEMENT,
        about_type=ContentType.objects.get_for_model(Registration),
        about_id__in=Registration.objects.managed_by(user, roles=roles).values("pk"),
    ) | Q(
        kind=SPEAKER_ADDED,
        about_type=ContentType.objects.get_for_model(Material),
        about_id__in=Material.objects.managed_by(user, roles=roles).values("pk"),
    )
