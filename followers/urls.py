from django.urls import path

from . import views

app_name = "followers"

urlpatterns = [
    path("series/<slug:slug>/follow/", views.follow, name="follow"),
    path("series/<slug:slug>/follow/sent/", views.follow_sent, name="follow_sent"),
    path("follow/confirm/<str:token>/", views.confirm, name="confirm"),
    path("follow/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
