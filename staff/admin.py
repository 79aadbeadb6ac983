from allauth.account.models import EmailAddress
from allauth.mfa.admin import AuthenticatorAdmin as AllauthAuthenticatorAdmin
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialApp, SocialToken
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from events.scoping import SeriesScopedAdminMixin
from seminar_site.admin_columns import ZonedTimesMixin, site_time

from . import services
from .models import AuditEntry, Invitation

# Providers come from SSO_PROVIDERS, tokens are not kept, addresses are the accounts' own:
# allauth's admin pages for these would only mislead.
for model in (SocialApp, SocialToken, EmailAddress):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
# Superusers delete a lost second factor here: its list and page name their times' zone, as every admin page does.
admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(ZonedTimesMixin, AllauthAuthenticatorAdmin):
    list_display = [
        "user",
        "type",
        site_time(Authenticator, "created_at"),
        site_time(Authenticator, "last_used_at"),
    ]


class SuperuserOnlyMixin:
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ZonedTimesMixin, SuperuserOnlyMixin, admin.ModelAdmin):
    list_display = [site_time(AuditEntry, "at"), "kind", "username", "actor", "series", "address", "method", "detail"]
    list_filter = ["kind", "method"]
    search_fields = ["username", "user__username", "actor__username", "address", "detail"]
    date_hierarchy = "at"
    list_select_related = ["user", "actor", "series"]
    fields = ["at", "kind", "user", "username", "actor", "series", "address", "method", "detail"]
    readonly_fields = fields
    view_on_site = False


@admin.register(Invitation)
class InvitationAdmin(SeriesScopedAdminMixin, ZonedTimesMixin, SuperuserOnlyMixin, admin.ModelAdmin):
    list_display = [
        "email",
        "series",
        "role",
        "state_label",
        "invited_by",
        site_time(Invitation, "created_at"),
        site_time(Invitation, "expires_at"),
        "accepted_by",
    ]
    list_filter = ["status", "role", "series"]
    search_fields = ["email"]
    list_select_related = ["series", "invited_by", "accepted_by"]
    fields = [
        "series",
        "email",
        "role",
        "status",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
        "accepted_with",
        "revoked_at",
        "revoked_by",
    ]
    readonly_fields = fields
    actions = ["revoke"]

    @admin.display(description=_("state"))
    def state_label(self, invitation):
        return invitation.state_label

    @admin.action(description=_("Revoke the selected invitations"))
    def revoke(self, request, queryset):
        revoked = sum(
            services.revoke_invitation(invitation=invitation, actor=request.user, request=request)
            for invitation in queryset.select_related("series")
        )
        messages.success(
            request,
            ngettext("%(count)d invitation revoked.", "%(count)d invitations revoked.", revoked) % {"count": revoked},
        )
