from django.urls import path

from . import views

app_name = "mailings"

urlpatterns = [
    path("staff/messages/talks/<int:pk>/new/", views.compose, name="compose"),
]
