"""Reactions to changes of the talk record: public pages that show it are rendered afresh; photos gone are erased.

Every save or delete of a series, speaker, venue, talk or question (the admin,
the services, a command) invalidates the cached public pages once the change
commits (seminar_site/pagecache.py). A speaker's uploaded photo that is
replaced or removed, or whose speaker is deleted, is erased once that commits
(a rolled-back save keeps it). `QuerySet.update()`, `bulk_create()` and raw SQL
send no signal: code that changes these rows that way must call
`pagecache.changed(pagecache.CONTENT)` and `services.erase_unused_photos` itself.
"""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from seminar_site import pagecache

from . import services
from .models import Event, Question, Series, Speaker, Venue

SHOWN_ON_PUBLIC_PAGES = (Series, Speaker, Venue, Event, Question)


def content_changed(sender, using=None, **kwargs):
    pagecache.changed(pagecache.CONTENT, using=using)


for model in SHOWN_ON_PUBLIC_PAGES:
    post_save.connect(content_changed, sender=model, dispatch_uid=f"pagecache-save-{model._meta.label}")
    post_delete.connect(content_changed, sender=model, dispatch_uid=f"pagecache-delete-{model._meta.label}")


@receiver(m2m_changed, sender=Event.speakers.through, dispatch_uid="pagecache-event-speakers")
def speakers_changed(sender, action, using=None, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        pagecache.changed(pagecache.CONTENT, using=using)


@receiver(pre_save, sender=Speaker, dispatch_uid="speaker-photo-before")
def note_photo_before(sender, instance, raw=False, update_fields=None, using=None, **kwargs):
    if raw or instance.pk is None or (update_fields is not None and "photo" not in update_fields):
        return
    instance._photo_before_save = (
        Speaker.objects.using(using).filter(pk=instance.pk).values_list("photo_id", flat=True).first()
    )


@receiver(post_save, sender=Speaker, dispatch_uid="speaker-photo-erase-replaced")
def erase_replaced_photo(sender, instance, using=None, **kwargs):
    before = instance.__dict__.pop("_photo_before_save", None)
    if before and before != instance.photo_id:
        _erase_on_commit(before, using)


@receiver(post_delete, sender=Speaker, dispatch_uid="speaker-photo-erase-deleted")
def erase_deleted_speakers_photo(sender, instance, using=None, **kwargs):
    if instance.photo_id:
        _erase_on_commit(instance.photo_id, using)


def _erase_on_commit(digest: str, using) -> None:
    # robust: the change is committed already, whatever happens to the photo (a
    # database that fails now leaves it to the sweeper, speaker_edits' erase_unsaved_photos).
    transaction.on_commit(lambda: services.erase_unused_photos(digests=[digest]), using=using, robust=True)
