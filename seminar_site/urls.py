from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Seminar administration"
admin.site.site_title = "Seminar administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    # Provider tracking webhooks (bounces), behind ANYMAIL_WEBHOOK_SECRET basic auth.
    path("anymail/", include("anymail.urls")),
    path("", include("registrations.urls")),
    path("", include("events.urls")),
]
