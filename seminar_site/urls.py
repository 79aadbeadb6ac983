from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from staff.urls import allauth_urlpatterns
from staff.views.signin import login as staff_login

from .language import switch_language
from .scoping import view_on_site

admin.site.site_header = _("Seminar administration")
admin.site.site_title = _("Seminar administration")


class FaviconView(RedirectView):
    """Browsers and feed readers ask for /favicon.ico without reading the page's links."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        # At request time: the hashed name exists only once collectstatic ran.
        return static("favicon.ico")


handler500 = "seminar_site.views.server_error"

urlpatterns = [
    # First: the public pages, most of all requests. Django tries patterns in
    # order, and walking every app's before the talk page cost it a fifth of its time.
    path("", include("events.urls")),
    # Next: the sign-up form posts here, and in a rush every post walks the patterns before it.
    path("", include("registrations.urls")),
    path("favicon.ico", FaviconView.as_view()),
    # Staff sign-in (the staff app): providers first, passwords limited without lockouts.
    path(f"{settings.ADMIN_PATH}login/", staff_login),
    # Before the admin's own: its "view on site" redirect would lead any staff
    # user to any object's URL (a registration's carries its self-service token).
    path(f"{settings.ADMIN_PATH}r/<int:content_type_id>/<path:object_id>/", admin.site.admin_view(view_on_site)),
    path(settings.ADMIN_PATH, admin.site.urls),
    # Provider tracking webhooks (bounces), behind ANYMAIL_WEBHOOK_SECRET basic auth.
    path("anymail/", include("anymail.urls")),
    # The language switcher posts here: a cookie, then back to the page.
    path("language/", switch_language, name="set_language"),
    path("accounts/", include(allauth_urlpatterns)),
    path("", include("staff.urls")),
    path("", include("listings.urls")),
    path("", include("reports.urls")),
    path("", include("checkin.urls")),
    path("", include("mailings.urls")),
    path("", include("followers.urls")),
    path("", include("speaker_edits.urls")),
    path("", include("doorscreen.urls")),
    path("", include("posters.urls")),
    path("", include("terms.urls")),
    path("", include("materials.urls")),
    path("", include("feedback.urls")),
]
