"""Every change to a talk's materials, and the announcement that they are up."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from events.models import Event, Speaker
from outbox import services as outbox
from seminar_site.errors import DomainError

from . import emails
from .models import Announcement, Material, Visibility
from .pdf import check_pdf
from .storage import storage


class MaterialsError(DomainError):
    """A materials rule said no."""


def add_material(
    *,
    event: Event,
    kind: str,
    title: str,
    visibility: str,
    url: str = "",
    upload=None,
    added_by=None,
    speaker: Speaker | None = None,
) -> Material:
    """Add a link (`url`) or an uploaded PDF (`upload`) to `event`'s materials.

    The upload is checked by `pdf.check_pdf` before anything is stored; the
    file goes to the materials storage under a random name. A material added
    by a speaker through their link (`speaker`) is reported to the organizers.
    Raises ValidationError (a message for the uploader: not a PDF, too big,
    empty, active content...; a link and a file, or neither; a recording
    uploaded as a file).
    """
    material = Material(
        event=event,
        kind=kind,
        title=" ".join(title.split()),
        visibility=visibility,
        url=url.strip(),
        added_by=added_by,
        added_by_speaker=speaker,
    )
    if upload is not None:
        attach_file(material=material, upload=upload)
    material.full_clean()
    with transaction.atomic():
        material.save()
        if speaker is not None:
            emails.queue_speaker_added(material=material)
    return material


def attach_file(*, material: Material, upload) -> None:
    """Check `upload` and set it as `material`'s file (stored when the material is saved).

    Raises ValidationError when the file is not one we may publish.
    """
    checked = check_pdf(upload)
    material.file = upload
    material.filename = (getattr(upload, "name", "") or "").rsplit("/", 1)[-1][:200]
    material.size, material.sha256 = checked.size, checked.sha256


# Where file_name (models.py) puts every stored file, in the materials storage.
FILES_DIRECTORY = "materials"


def erase_orphaned_files(*, before, dry_run: bool = False) -> list[str]:
    """Delete the stored files no material refers to that were last written before `before`; return their names.

    A file is stored while its material is saved, before the transaction
    commits: a rolled-back save (an upload whose admin form failed later on, a
    crash between the two) leaves it behind with nothing to delete it. An
    upload still in flight has a file and no committed row yet, so only files
    older than `before` (a day, for the daily job) are taken. With `dry_run`
    nothing is deleted. Raises what the storage raises (an unreachable bucket).
    """
    referenced = set(Material.objects.exclude(file="").values_list("file", flat=True))
    orphans = [
        name
        for name in _stored_files(FILES_DIRECTORY)
        if name not in referenced and storage.get_modified_time(name) < before
    ]
    if not dry_run:
        for name in orphans:
            storage.delete(name)
    return orphans


def _stored_files(directory: str):
    try:
        directories, files = storage.listdir(directory)
    except FileNotFoundError:
        # Nothing stored yet on disk. (Not `exists()`: on S3 a directory is a prefix, never an object.)
        return
    for name in sorted(files):
        yield f"{directory}/{name}"
    for name in sorted(directories):
        yield from _stored_files(f"{directory}/{name}")


def remove_material(*, material: Material, speaker: Speaker | None = None) -> bool:
    """Delete `material` and, once that commits, its file. With `speaker`: only one that speaker added.

    Returns False, changing nothing, when it is gone already or is not the speaker's.
    """
    materials = Material.objects.filter(pk=material.pk)
    if speaker is not None:
        materials = materials.filter(added_by_speaker=speaker)
    with transaction.atomic():
        # One by one, so the deletion signals (the page cache, the stored file) fire.
        deleted = [found.delete() for found in materials.select_for_update()]
    return bool(deleted)


def send_announcement(*, announcement: Announcement, actor, now=None) -> int:
    """Email `announcement` to each of its recipients, once; return how many emails were queued now.

    Each message lists the materials the recipient may see when it is sent
    (public ones, and those for registrants through their own link). Sending
    twice queues nothing more: the announcement is locked and marked sent in
    one transaction, and the outbox allows one message per registration per
    announcement whatever happens (a retried request, a retried task).

    Raises MaterialsError: "no_audience" when no group is chosen, "not_over"
    before the talk has ended, "nothing_to_announce" when the talk has no
    material for registrants, "no_recipients" when nobody is in the chosen
    groups now (the announcement then stays unsent).
    """
    now = now or timezone.now()
    if not announcement.audience:
        raise MaterialsError(_("Choose who the email goes to."), code="no_audience")
    event = announcement.event
    if not event.is_past(now):
        raise MaterialsError(_("The talk is not over yet: announce its materials after it."), code="not_over")
    shared = Material.objects.filter(event=event, visibility__in=[Visibility.PUBLIC, Visibility.REGISTRANTS])
    if not shared.exists():
        raise MaterialsError(
            _("The talk has no materials for registrants yet: add the slides or the recording first."),
            code="nothing_to_announce",
        )
    with transaction.atomic():
        locked = Announcement.objects.select_for_update().get(pk=announcement.pk)
        if locked.sent_at is not None:
            announcement.sent_at, announcement.recipient_count = locked.sent_at, locked.recipient_count
            return 0
        if not locked.recipients().exists():
            raise MaterialsError(
                _("Nobody is in the chosen groups right now: nothing was sent, and the email is kept unsent."),
                code="no_recipients",
            )
        queued = queue_announcement(announcement=locked)
        Announcement.objects.filter(pk=locked.pk).update(sent_at=now, sent_by=actor, recipient_count=queued)
    announcement.sent_at, announcement.sent_by, announcement.recipient_count = now, actor, queued
    return queued


def queue_announcement(*, announcement: Announcement) -> int:
    """Queue the announcement to each current recipient who has not got it; return how many were queued.

    Safe to repeat: the outbox's once-per-key constraint drops a second message to the same registration.
    """
    queued = 0
    for registration in announcement.recipients():
        mail = outbox.queue_mail(
            kind=emails.ANNOUNCEMENT,
            to=registration.email,
            about=registration,
            once_key=announcement.once_key,
            data={"announcement": announcement.pk},
        )
        queued += mail is not None
    return queued
