from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("staff/numbers/talks/<int:pk>/", views.event_numbers, name="event"),
    path("staff/numbers/talks/<int:pk>/<slug:slug>.svg", views.event_chart, name="event_chart"),
    path("staff/numbers/talks/<int:pk>/<slug:slug>.csv", views.event_csv, name="event_csv"),
    path("staff/numbers/series/<int:pk>/", views.series_numbers, name="series"),
    path("staff/numbers/series/<int:pk>/<slug:slug>.svg", views.series_chart, name="series_chart"),
    path("staff/numbers/series/<int:pk>/<slug:slug>.csv", views.series_csv, name="series_csv"),
]
