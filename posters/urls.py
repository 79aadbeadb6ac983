from django.urls import path

from . import views

app_name = "posters"

urlpatterns = [
    path("staff/posters/talks/<int:pk>/poster.pdf", views.talk, name="talk"),
    path("staff/posters/series/<int:pk>/", views.series, name="series"),
    path("staff/posters/series/<int:pk>/talks.pdf", views.term, name="term"),
]
