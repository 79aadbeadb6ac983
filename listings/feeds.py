"""Atom feeds of upcoming talks: the whole site, and one series."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from events.ical import absolute_url, site_host
from events.models import Series

from .talks import MAX_TALKS, speaker_text, upcoming_talks


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

    def items(self):
        return upcoming_talks()[:MAX_TALKS]

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

    def items(self, series):
        return upcoming_talks(series=series)[:MAX_TALKS]
