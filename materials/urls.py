from django.urls import path

from . import views

app_name = "materials"

urlpatterns = [
    path("materials/r/<str:token>/", views.registrant, name="registrant"),
    path("materials/r/<str:token>/<str:key>/<str:filename>", views.registrant_file, name="registrant_file"),
    path("materials/<str:key>/<str:filename>", views.file, name="file"),
    path("speaker/talks/<int:event_id>/<str:token>/materials/", views.speaker, name="speaker"),
    path("staff/materials/talks/<int:pk>/", views.event, name="event"),
]
