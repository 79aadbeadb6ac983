from django.http import Http404
from django.utils import timezone
from django.views.generic import DetailView, ListView

from .models import Event, Series


class EventListView(ListView):
    """Upcoming talks of every series, soonest first; a talk under way still counts as upcoming."""

    template_name = "events/event_list.html"
    paginate_by = 20
    past = False

    def get_queryset(self):
        events = Event.objects.published().with_related()
        return events.past() if self.past else events.upcoming()

    def get_context_data(self, **kwargs):
        return super().get_context_data(past=self.past, now=timezone.now(), **kwargs)


class PastEventListView(EventListView):
    past = True


class EventDetailView(DetailView):
    """The talk page. Drafts exist only for staff, who see them as a marked preview."""

    template_name = "events/event_detail.html"

    def get_queryset(self):
        return Event.objects.visible_to(self.request.user).with_related()

    def get_context_data(self, **kwargs):
        return super().get_context_data(now=timezone.now(), **kwargs)


class SeriesDetailView(DetailView):
    model = Series
    template_name = "events/series_detail.html"

    def get_context_data(self, **kwargs):
        now = timezone.now()
        events = Event.objects.filter(series=self.object).visible_to(self.request.user).with_related()
        return super().get_context_data(
            upcoming_events=events.upcoming(now), past_events=events.past(now), now=now, **kwargs
        )


def event_ics(request, slug):
    raise Http404  # built in the email and calendar issue


def series_calendar(request, slug):
    raise Http404  # built in the email and calendar issue
