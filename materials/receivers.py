"""Public pages show materials; a stored file goes with its material."""

from functools import partial

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from seminar_site import pagecache

from .models import Material


@receiver(post_save, sender=Material, dispatch_uid="materials-pagecache-save")
@receiver(post_delete, sender=Material, dispatch_uid="materials-pagecache-delete")
def material_changed(sender, using=None, **kwargs):
    # The talk page, the archive and the series page list public materials (and their cached copies go).
    pagecache.changed(pagecache.CONTENT, using=using)


@receiver(pre_save, sender=Material, dispatch_uid="materials-replaced-file")
def file_replaced(sender, instance, using=None, **kwargs):
    if instance.pk is None:
        return
    previous = Material.objects.using(using).filter(pk=instance.pk).values_list("file", flat=True).first()
    if previous and previous != instance.file.name:
        _delete_on_commit(previous, using)


@receiver(post_delete, sender=Material, dispatch_uid="materials-deleted-file")
def material_deleted(sender, instance, using=None, **kwargs):
    if instance.file:
        _delete_on_commit(instance.file.name, using)


def _delete_on_commit(name: str, using) -> None:
    # Only once the row is gone for good: a rolled-back delete keeps its file.
    from .storage import storage

    transaction.on_commit(partial(storage.delete, name), using=using, robust=True)
