"""Atom feeds of talks: upcoming and past (with their slides and recordings), of the whole site and of one series."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Enclosure
from django.utils.translation import gettext as _

from events.ical import absolute_url, site_host
from events.models import Series

from .talks import MAX_TALKS, past_talks, speaker_text, upcoming_talks, with_materials


class UpcomingTalksFeed(Feed):
    """Every public talk that has not ended, soonest first; a cancelled one stays, marked in its title."""

    feed_type = Atom1Feed
    description_template = "listings/feed_item.html"

    def title(self):
        return _("%(name)s: upcoming talks") % {"name": settings.SITE_NAME}

    def subtitle(self):
        return _("Talks coming up at %(name)s, soonest first.") % {"name": settings.SITE_NAME}

    def link(self):
        return absolute_url(reverse("events:event_list"))

    def feed_url(self):
        return absolute_url(reverse("listings:talks_atom"))

    def feed_guid(self):
        return self.feed_url()

    def author_name(self):
        # Atom wants an author for each entry: the feed's stands for a talk without speakers (RFC 4287 4.1.2).
        return settings.SITE_NAME

    def items(self):
        return with_materials(upcoming_talks()[:MAX_TALKS])

    def get_context_data(self, **kwargs):
        # The entry's HTML lists the talk's public materials.
        return super().get_context_data(**kwargs) | {"materials": kwargs["item"].material_list}

    def item_enclosures(self, event):
        # Uploaded files (PDF) as Atom enclosures, which readers offer to download.
        return [
            Enclosure(material.url, str(material.size), material.media_type)
            for material in event.material_list
            if material.is_file
        ]

    def item_title(self, event):
        return _("Cancelled: %(title)s") % {"title": event.title} if event.is_cancelled else event.title

    def item_link(self, event):
        return absolute_url(event.get_absolute_url())

    def item_guid(self, event):
        # Stable when the slug or the site's address changes: readers must not see the talk twice.
        return f"tag:{site_host()},{event.created_at:%Y-%m-%d}:event-{event.pk}"

    item_guid_is_permalink = False

    def item_author_name(self, event):
        return speaker_text(event) or None

    def item_pubdate(self, event):
        return event.created_at

    def item_updateddate(self, event):
        return event.updated_at

    def item_categories(self, event):
        return [event.series.name]


class SeriesTalksFeed(UpcomingTalksFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Series, slug=slug)

    def title(self, series):
        return _("%(name)s: upcoming talks") % {"name": series.name}

    def subtitle(self, series):
        return _("Talks coming up in %(name)s, soonest first.") % {"name": series.name}

    def link(self, series):
        return absolute_url(series.get_absolute_url())

    def feed_url(self, series):
        return absolute_url(reverse("listings:series_talks_atom", kwargs={"slug": series.slug}))

    def feed_guid(self, series):
        return self.feed_url(series)

    def author_name(self, series):
        return series.name

    def items(self, series):
        return with_materials(upcoming_talks(series=series)[:MAX_TALKS])


class PastTalksFeed(UpcomingTalksFeed):
    """Talks that took place, newest first, with their public slides, recordings and other materials.

    An entry is updated when a material is added, so readers see a recording that comes later.
    """

    def title(self):
        return _("%(name)s: past talks") % {"name": settings.SITE_NAME}

    def subtitle(self):
        return _("Talks that took place at %(name)s, newest first, with their slides and recordings.") % {
            "name": settings.SITE_NAME
        }

    def link(self):
        return absolute_url(reverse("events:past_event_list"))

    def feed_url(self):
        return absolute_url(reverse("listings:past_talks_atom"))

    def items(self):
        return with_materials(past_talks()[:MAX_TALKS])

    def item_title(self, event):
        return event.title

    def item_updateddate(self, event):
        return max([event.updated_at, *(material.added_at for material in event.material_list)])


class SeriesPastTalksFeed(PastTalksFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Series, slug=slug)

    def title(self, series):
        return _("%(name)s: past talks") % {"name": series.name}

    def subtitle(self, series):
        return _("Talks that took place in %(name)s, newest first, with their slides and recordings.") % {
            "name": series.name
        }

    def link(self, series):
        return absolute_url(series.get_absolute_url())

    def feed_url(self, series):
        return absolute_url(reverse("listings:series_past_talks_atom", kwargs={"slug": series.slug}))

    def feed_guid(self, series):
        return self.feed_url(series)

    def author_name(self, series):
        return series.name

    def items(self, series):
        return with_materials(past_talks(series=series)[:MAX_TALKS])
