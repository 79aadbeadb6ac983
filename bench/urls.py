"""The production URLconf plus the baselines the benchmarks compare against."""

from django.urls import path

from seminar_site.urls import handler500
from seminar_site.urls import urlpatterns as site_urlpatterns

from . import views

__all__ = ["handler500", "urlpatterns"]

urlpatterns = [
    path("__bench__/bare/", views.bare, name="bench_bare"),
    path("__bench__/form/", views.form, name="bench_form"),
    path("__bench__/insert/", views.insert, name="bench_insert"),
    *site_urlpatterns,
]
