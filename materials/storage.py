"""Where uploaded materials are kept: the storage STORAGES["materials"] names, looked up when used.

By default a directory under DATA_DIR (FileSystemStorage); any Django storage
works, e.g. S3 or another S3-compatible service through django-storages (see
README.md). Files are only read through the site's own view, which checks who
asks: the storage needs no public URL, and a bucket stays private.
"""

from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty


class _MaterialsStorage(LazyObject):
    def _setup(self):
        self._wrapped = storages["materials"]


storage = _MaterialsStorage()


def materials_storage():
    """For FileField(storage=...): the storage of the moment, whatever STORAGES says when a file is used."""
    return storage


@receiver(setting_changed)
def _forget_storage(setting, **kwargs):
    # Tests (and only they) change STORAGES while running.
    if setting == "STORAGES":
        storage._wrapped = empty
