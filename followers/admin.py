"""Organizers see how many follow their series, never who: no list of addresses exists on the staff side."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from events.scoping import SeriesScopedAdminMixin
from seminar_site.admin_columns import ZonedTimesMixin

from .models import SeriesFollowing, follower_counts


@admin.register(SeriesFollowing)
class SeriesFollowingAdmin(SeriesScopedAdminMixin, ZonedTimesMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "confirmed_count",
        "announcement_count",
        "digest_count",
        "unconfirmed_count",
        "unsubscribed_count",
        "digest_schedule",
    ]
    search_fields = ["name"]
    fields = [
        "name",
        "confirmed_count",
        "announcement_count",
        "digest_count",
        "unconfirmed_count",
        "unsubscribed_count",
        "digest_schedule",
    ]
    readonly_fields = fields
    # Counts only: nothing to export, select or act on.
    actions = None

    def get_queryset(self, request):
        return follower_counts(super().get_queryset(request).select_related("default_venue"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("following"), ordering="confirmed_count")
    def confirmed_count(self, obj):
        return obj.confirmed_count

    @admin.display(description=_("get announcements"), ordering="announcement_count")
    def announcement_count(self, obj):
        return obj.announcement_count

    @admin.display(description=_("get the digest"), ordering="digest_count")
    def digest_count(self, obj):
        return obj.digest_count

    @admin.display(description=_("not confirmed yet"))
    def unconfirmed_count(self, obj):
        return obj.unconfirmed_count

    @admin.display(description=_("stopped"))
    def unsubscribed_count(self, obj):
        return obj.unsubscribed_count

    @admin.display(description=_("weekly digest"))
    def digest_schedule(self, obj):
        if not obj.has_digest:
            return _("none (set it on the series)")
        return _("%(weekday)s at %(time)s (%(zone)s)") % {
            "weekday": obj.get_digest_weekday_display(),
            "time": obj.digest_time.strftime("%H:%M"),
            "zone": obj.local_time_zone.key,
        }
