from django.urls import path

from . import views

app_name = "terms"

urlpatterns = [
    path("staff/terms/series/<int:pk>/import/", views.import_term, name="import"),
    path("staff/terms/series/<int:pk>/export/", views.export_term, name="export"),
    path("staff/terms/template.<str:kind>", views.template, name="template"),
]
