from django.urls import path

from . import views

app_name = "checkin"

urlpatterns = [
    path("c/<str:token>/", views.scan, name="scan"),
    path("staff/checkin/", views.index, name="index"),
    path("staff/checkin/talks/<int:pk>/", views.event_checkin, name="event"),
    path("staff/checkin/talks/<int:pk>/walk-in/", views.walk_in, name="walk_in"),
    path("staff/checkin/talks/<int:pk>/no-shows/", views.no_shows, name="no_shows"),
    path("staff/checkin/talks/<int:pk>/<int:registration_pk>/in/", views.check_in, name="check_in"),
    path("staff/checkin/talks/<int:pk>/<int:registration_pk>/undo/", views.undo, name="undo"),
]
