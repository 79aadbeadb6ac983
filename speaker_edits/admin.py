from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from events.scoping import SeriesScopedAdminMixin
from seminar_site.admin_columns import ZonedTimesMixin, site_time

from . import services
from .emails import change_rows
from .fields import FIELD_LABELS, FIELDS
from .models import SpeakerEdit, SpeakerInvitation


class ReadOnlyMixin:
    """Links are sent and edits made through their own pages (services); the admin lists and revokes."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SpeakerInvitation)
class SpeakerInvitationAdmin(SeriesScopedAdminMixin, ZonedTimesMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "speaker",
        "event",
        "email",
        site_time(SpeakerInvitation, "created_at"),
        site_time(SpeakerInvitation, "expires_at"),
        "state",
    ]
    list_select_related = ["speaker", "event"]
    list_filter = ["event__series"]
    search_fields = ["speaker__name", "event__title", "email"]
    fields = ["event", "speaker", "email", "created_by", "created_at", "expires_at", "revoked_at", "revoked_by"]
    actions = ["revoke"]

    @admin.display(description=_("state"))
    def state(self, obj):
        return obj.state_label

    def has_revoke_permission(self, request):
        return request.user.has_perm("events.change_event")

    @admin.action(description=_("Revoke the selected links"), permissions=["revoke"])
    def revoke(self, request, queryset):
        revoked = sum(services.revoke_invitation(invitation=item, actor=request.user) for item in queryset)
        self.message_user(
            request,
            ngettext("%(count)d link revoked.", "%(count)d links revoked.", revoked) % {"count": revoked},
            messages.SUCCESS,
        )


@admin.register(SpeakerEdit)
class SpeakerEditAdmin(SeriesScopedAdminMixin, ZonedTimesMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = [site_time(SpeakerEdit, "created_at"), "speaker", "event", "fields_changed", "invite_update"]
    list_select_related = ["speaker", "event"]
    list_filter = ["invite_update", "event__series"]
    search_fields = ["speaker__name", "event__title"]
    fields = ["event", "speaker", "created_at", "changes", "invite_update", "invite_update_decided_by"]
    readonly_fields = ["changes"]

    @admin.display(description=_("changed"))
    def fields_changed(self, obj):
        return ", ".join(str(FIELD_LABELS[name]) for name in FIELDS if name in obj.after)

    @admin.display(description=_("before and after"))
    def changes(self, obj):
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("field"),
            _("before"),
            _("after"),
            format_html_join(
                "",
                '<tr><th scope="row">{}</th><td>{}</td><td>{}</td></tr>',
                ((row["label"], row["before"], row["after"]) for row in change_rows(obj, absolute=False)),
            ),
        )
