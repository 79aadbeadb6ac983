"""Reactions to changes of the talk record: public pages that show it are rendered afresh.

Every save or delete of a series, speaker, venue, talk or question (the admin,
the services, a command) invalidates the cached public pages once the change
commits (seminar_site/pagecache.py). `QuerySet.update()`, `bulk_create()` and
raw SQL send no signal: code that changes these rows that way must call
`pagecache.changed(pagecache.CONTENT)` itself.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from seminar_site import pagecache

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
