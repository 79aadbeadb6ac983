from django.urls import path

from . import views

app_name = "doorscreen"

urlpatterns = [
    path("screen/<str:key>/", views.screen, name="screen"),
    path("screen/<str:key>/now.json", views.screen_json, name="json"),
    path("screen/<str:key>/qr/<slug:slug>.svg", views.qr, name="qr"),
    path("staff/screens/series/<int:pk>/", views.manage, name="manage"),
]
