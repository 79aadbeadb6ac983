from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    """The organizers' home: the admin's index page, with what every app contributes (registry.py)."""

    default = True
    name = "dashboard"
    verbose_name = _("Dashboard")

    def ready(self):
        from . import panels

        panels.register()


class SiteAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with the dashboard as its home and the talks first (listed instead of django.contrib.admin)."""

    default = False
    default_site = "dashboard.sites.SiteAdmin"
