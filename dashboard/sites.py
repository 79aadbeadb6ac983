"""The admin site: the dashboard as its index, the talks first, plumbing for superusers only."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

# The menu's order: what organizers run week by week first; apps not named follow, by name.
APP_ORDER = ["events", "registrations", "mailings", "speaker_edits", "followers", "dashboard"]
MODEL_ORDER = {"events": ["event", "series", "speaker", "venue"]}
# How the site works rather than what organizers run: accounts and groups, the
# outbox's rows and the task queue. Only superusers see them in the menu (staff
# who may read their own series' emails reach them from the dashboard).
PLUMBING = ["outbox", "auth", "django_tasks_database"]


def _position(names: list[str], name: str) -> int:
    return names.index(name) if name in names else len(names)


class SiteAdmin(admin.AdminSite):
    index_template = "dashboard/index.html"
    index_title = _("Dashboard")

    def get_app_list(self, request, app_label=None):
        apps = self._build_app_dict(request, app_label).values()
        if not request.user.is_superuser:
            apps = [app for app in apps if app["app_label"] not in PLUMBING]
        app_list = sorted(
            apps,
            key=lambda app: (
                app["app_label"] in PLUMBING,
                _position(PLUMBING if app["app_label"] in PLUMBING else APP_ORDER, app["app_label"]),
                app["name"].lower(),
            ),
        )
        for app in app_list:
            order = MODEL_ORDER.get(app["app_label"], [])
            app["models"].sort(key=lambda model: (_position(order, model["object_name"].lower()), model["name"]))
        return app_list

    def index(self, request, extra_context=None):
        from .views import dashboard_context

        return super().index(request, {**dashboard_context(request), **(extra_context or {})})
