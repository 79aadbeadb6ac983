from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "Seminar administration"
admin.site.site_title = "Seminar administration"


class FaviconView(RedirectView):
    """Browsers and feed readers ask for /favicon.ico without reading the page's links."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        # At request time: the hashed name exists only once collectstatic ran.
        return static("favicon.ico")


urlpatterns = [
    path("favicon.ico", FaviconView.as_view()),
    path("admin/", admin.site.urls),
    # Provider tracking webhooks (bounces), behind ANYMAIL_WEBHOOK_SECRET basic auth.
    path("anymail/", include("anymail.urls")),
    path("", include("registrations.urls")),
    path("", include("listings.urls")),
    path("", include("events.urls")),
]
