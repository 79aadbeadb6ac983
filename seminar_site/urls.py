from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from .language import switch_language
from .limits import by_ip, by_post_field, rate_limit
from .scoping import view_on_site

admin.site.site_header = _("Seminar administration")
admin.site.site_title = _("Seminar administration")


class FaviconView(RedirectView):
    """Browsers and feed readers ask for /favicon.ico without reading the page's links."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        # At request time: the hashed name exists only once collectstatic ran.
        return static("favicon.ico")


# Password guessing: per client address, and per username from anywhere.
admin_login = rate_limit("admin-login-ip", rate="LOGIN_RATE_LIMIT", key=by_ip)(
    rate_limit("admin-login-user", rate="LOGIN_RATE_LIMIT", key=by_post_field("username"))(admin.site.login)
)

handler500 = "seminar_site.views.server_error"

urlpatterns = [
    # First: the public pages, most of all requests. Django tries patterns in
    # order, and walking every app's before the talk page cost it a fifth of its time.
    path("", include("events.urls")),
    path("favicon.ico", FaviconView.as_view()),
    path(f"{settings.ADMIN_PATH}login/", admin_login),
    # Before the admin's own: its "view on site" redirect would lead any staff
    # user to any object's URL (a registration's carries its self-service token).
    path(f"{settings.ADMIN_PATH}r/<int:content_type_id>/<path:object_id>/", admin.site.admin_view(view_on_site)),
    path(settings.ADMIN_PATH, admin.site.urls),
    # Provider tracking webhooks (bounces), behind ANYMAIL_WEBHOOK_SECRET basic auth.
    path("anymail/", include("anymail.urls")),
    # The language switcher posts here: a cookie, then back to the page.
    path("language/", switch_language, name="set_language"),
    path("", include("registrations.urls")),
    path("", include("listings.urls")),
    path("", include("reports.urls")),
    path("", include("checkin.urls")),
    path("", include("mailings.urls")),
    path("", include("followers.urls")),
    path("", include("speaker_edits.urls")),
]
