from django.contrib import admin, messages
from django.contrib.contenttypes.prefetch import GenericPrefetch
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from seminar_site.admin_columns import ZonedTimesMixin, site_time
from seminar_site.scoping import ScopedAdminMixin

from . import registry, services
from .models import OutgoingMail


class KindListFilter(admin.SimpleListFilter):
    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return registry.kind_choices()

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(OutgoingMail)
class OutgoingMailAdmin(ScopedAdminMixin, ZonedTimesMixin, admin.ModelAdmin):
    list_display = [
        "kind_display",
        "recipient",
        "about_display",
        "status",
        "attempts",
        site_time(OutgoingMail, "created_at"),
        site_time(OutgoingMail, "sent_at"),
        site_time(OutgoingMail, "bounced_at"),
    ]
    list_filter = ["status", KindListFilter, ("bounced_at", admin.EmptyFieldListFilter)]
    search_fields = ["recipient", "provider_message_id"]
    date_hierarchy = "created_at"
    fields = [
        "kind_display",
        "recipient",
        "about_display",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "next_attempt_at",
        "sending_started_at",
        "sent_at",
        "provider_message_id",
        "bounced_at",
        "bounce_type",
        "bounce_detail",
    ]
    readonly_fields = fields
    actions = ["send_again"]

    def get_queryset(self, request):
        # What each message is about, each model in one query, with what its name reads (see registry.register_about).
        about = GenericPrefetch("about", registry.about_querysets())
        return super().get_queryset(request).select_related("about_type").prefetch_related(about)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Rows are a record of what happened: only the "send again" action changes them.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request):
        return request.user.has_perm("outbox.change_outgoingmail")

    @admin.display(description=_("kind"), ordering="kind")
    def kind_display(self, mail):
        return mail.kind_label

    @admin.display(description=_("about"))
    def about_display(self, mail):
        return mail.about if mail.about is not None else ""

    @admin.action(description=_("Send again (failed or skipped messages only)"), permissions=["retry"])
    def send_again(self, request, queryset):
        selected = queryset.count()
        retried = sum(services.send_again(mail=mail) for mail in queryset)
        self.message_user(
            request,
            ngettext("%(count)d message queued again.", "%(count)d messages queued again.", retried)
            % {"count": retried},
            messages.SUCCESS,
        )
        if selected > retried:
            left = selected - retried
            self.message_user(
                request,
                ngettext(
                    "%(count)d was pending or sent already and was left alone.",
                    "%(count)d were pending or sent already and were left alone.",
                    left,
                )
                % {"count": left},
                messages.WARNING,
            )
