from django.urls import path

from . import views

app_name = "followers"

urlpatterns = [
    path("series/<slug:slug>/follow/", views.follow, name="follow"),
    path("series/<slug:slug>/follow/sent/", views.follow_sent, name="follow_sent"),
    path("follow/confirm/<str:token>/", views.confirm, name="confirm"),
    path("follow/manage/", views.manage_link, name="manage_link"),
    path("follow/manage/sent/", views.manage_link_sent, name="manage_link_sent"),
    path("follow/manage/<str:token>/", views.manage, name="manage"),
    path("follow/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
