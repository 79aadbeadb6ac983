from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.http import etag
from django.views.generic import DetailView, ListView

from seminar_site import pagecache

from . import ical, materials, sharing
from .forms import ArchiveForm
from .models import Event, Series, SpeakerPhoto


class EventListView(ListView):
    """Upcoming talks of every series, soonest first; a talk under way still counts as upcoming."""

    template_name = "events/event_list.html"
    paginate_by = 20
    past = False

    def get(self, request, *args, **kwargs):
        page = request.GET.get(self.page_kwarg, "1")
        if not page.isdigit():
            return super().get(request, *args, **kwargs)
        return pagecache.serve(
            request,
            key=f"events:{'past' if self.past else 'upcoming'}:{page}",
            # No seats on these lists: a registration leaves them as they are.
            tags=[pagecache.CONTENT],
            render=lambda: super(EventListView, self).get(request, *args, **kwargs),
            valid_until=lambda response: Event.objects.published().next_change(response.context_data["now"]),
        )

    def get_queryset(self):
        events = Event.objects.published().with_related()
        return events.past() if self.past else events.upcoming()

    def get_context_data(self, **kwargs):
        preview = sharing.page_preview(
            title=_("Past talks") if self.past else _("Upcoming talks"),
            description=_("Past talks of %(site)s.") % {"site": settings.SITE_NAME}
            if self.past
            else _("Upcoming talks of %(site)s: see what is on and register for a seat.")
            % {"site": settings.SITE_NAME},
            path=self.request.path,
        )
        return super().get_context_data(past=self.past, now=timezone.now(), preview=preview, **kwargs)


class PastEventListView(EventListView):
    """The archive: past talks, newest first, searchable and filtered by series and year, each with its materials."""

    template_name = "events/archive.html"
    past = True

    def get(self, request, *args, **kwargs):
        if set(request.GET) - {self.page_kwarg}:
            # Searches and filters are rendered for each request: any text can be typed,
            # and the cache would keep every one of them.
            return ListView.get(self, request, *args, **kwargs)
        return super().get(request, *args, **kwargs)

    @cached_property
    def form(self) -> ArchiveForm:
        return ArchiveForm(self.request.GET or None, talks=Event.objects.published().past())

    def get_queryset(self):
        return self.form.narrow(super().get_queryset())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(form=self.form, filters=self.form.filters, **kwargs)
        # One query for the materials of the whole page (public ones: the page is the same for everyone).
        talks = materials.attach(context["object_list"])
        context["object_list"] = context["event_list"] = talks
        if context["page_obj"] is not None:
            context["page_obj"].object_list = talks
        return context


class EventDetailView(DetailView):
    """The talk page. Drafts exist only for staff, who see them as a marked preview."""

    template_name = "events/event_detail.html"

    def get(self, request, *args, **kwargs):
        slug = kwargs[self.slug_url_kwarg]
        return pagecache.serve(
            request,
            key=f"talk:{slug}",
            tags=[pagecache.CONTENT],
            # A sign-up changes the seats only: the registration panel reads them again, the page stays.
            live=pagecache.talk_tag(slug),
            render=lambda: super(EventDetailView, self).get(request, *args, **kwargs),
            valid_until=lambda response: response.context_data["event"].next_change(response.context_data["now"]),
        )

    def get_queryset(self):
        return Event.objects.visible_to(self.request.user).with_related().prefetch_related("questions")

    def get_context_data(self, **kwargs):
        now = timezone.now()
        event = self.object
        speakers = list(event.speakers.all())
        # Staff of the series also see what only registrants or staff may see (their page is never cached).
        talk_materials = materials.of_events([event], user=self.request.user)[event.pk]
        return super().get_context_data(
            now=now,
            preview=sharing.event_preview(event, speakers),
            json_ld=sharing.json_ld_script(
                sharing.event_json_ld(event, speakers, now=now, recordings=materials.recordings(talk_materials))
            ),
            talk_materials=talk_materials,
            **kwargs,
        )


class SeriesDetailView(DetailView):
    model = Series
    template_name = "events/series_detail.html"

    def get_context_data(self, **kwargs):
        now = timezone.now()
        events = Event.objects.filter(series=self.object).visible_to(self.request.user).with_related()
        preview = sharing.page_preview(
            title=self.object.name,
            description=self.object.description or _("Talks of the %(series)s.") % {"series": self.object.name},
            path=self.object.get_absolute_url(),
        )
        return super().get_context_data(
            upcoming_events=events.upcoming(now),
            past_events=materials.attach(events.past(now)),
            now=now,
            preview=preview,
            **kwargs,
        )


def _calendar_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def event_ics(request, slug):
    """One published (or cancelled) talk as an .ics file; drafts do not exist here."""
    event = get_object_or_404(Event.objects.published().with_related(), slug=slug)
    return _calendar_response(ical.event_calendar(event), f"{event.slug}.ics")


def series_calendar(request, slug):
    """The subscribable feed of a series: every public talk, cancelled ones marked so."""
    series = get_object_or_404(Series, slug=slug)
    events = Event.objects.filter(series=series).published().with_related().order_by("start", "pk")
    return _calendar_response(ical.series_calendar(series, events), f"{series.slug}.ics")


# A day, not a year: a photo erased (replaced, removed) must leave browsers and shared caches soon.
PHOTO_MAX_AGE = 24 * 60 * 60


def _photo_etag(request, digest):
    return digest if SpeakerPhoto.objects.filter(digest=digest).exists() else None


@etag(_photo_etag)
def speaker_photo(request, digest):
    """An uploaded speaker photo: its URL names its bytes, so a cached copy is never stale while it exists.

    Kept a day; after that a browser asks again with its ETag and gets 304, or
    404 once the photo is erased.
    """
    photo = get_object_or_404(SpeakerPhoto.objects.only("data"), digest=digest)
    response = HttpResponse(bytes(photo.data), content_type=SpeakerPhoto.CONTENT_TYPE)
    response["Cache-Control"] = f"public, max-age={PHOTO_MAX_AGE}, immutable"
    # Other sites show it too (the JSON listing, link previews).
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
