from django.urls import path

from . import views

app_name = "speaker_edits"

urlpatterns = [
    path("speaker/talks/<int:event_id>/<str:token>/", views.edit, name="edit"),
    path("speaker/talks/<int:event_id>/<str:token>/saved/", views.saved, name="saved"),
    path("staff/speaker-edits/talks/<int:pk>/", views.event_edits, name="event"),
    path("staff/speaker-edits/talks/<int:pk>/links/<int:invitation_pk>/revoke/", views.revoke, name="revoke"),
    path("staff/speaker-edits/talks/<int:pk>/update/", views.decide_update, name="decide_update"),
]
