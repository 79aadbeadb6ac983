from django.http import Http404
from django.views.generic import DetailView, ListView

from .models import Event, Series


class EventListView(ListView):
    template_name = "events/event_list.html"
    paginate_by = 20

    def get_queryset(self):
        return Event.objects.published().upcoming().with_related()


class PastEventListView(EventListView):
    template_name = "events/event_list_past.html"

    def get_queryset(self):
        return Event.objects.published().past().with_related()


class EventDetailView(DetailView):
    template_name = "events/event_detail.html"

    def get_queryset(self):
        return Event.objects.visible_to(self.request.user).with_related()


class SeriesDetailView(DetailView):
    model = Series
    template_name = "events/series_detail.html"


def event_ics(request, slug):
    raise Http404  # built in the email and calendar issue


def series_calendar(request, slug):
    raise Http404  # built in the email and calendar issue
