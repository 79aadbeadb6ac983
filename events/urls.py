from django.urls import path

from . import views

app_name = "events"

urlpatterns = [
    path("", views.EventListView.as_view(), name="event_list"),
    path("events/past/", views.PastEventListView.as_view(), name="past_event_list"),
    path("events/<slug:slug>/", views.EventDetailView.as_view(), name="event_detail"),
    path("events/<slug:slug>/event.ics", views.event_ics, name="event_ics"),
    path("series/<slug:slug>/", views.SeriesDetailView.as_view(), name="series_detail"),
    path("series/<slug:slug>/calendar.ics", views.series_calendar, name="series_calendar"),
    path("speakers/photos/<str:digest>.jpg", views.speaker_photo, name="speaker_photo"),
]
