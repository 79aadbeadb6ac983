from django.contrib import admin, messages
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from events.when import SHORT, talk_when
from outbox.models import OutgoingMail
from seminar_site.scoping import ScopedAdminMixin

from . import emails, services
from .forms import AnnouncementForm, MaterialAdminForm
from .models import Announcement, Audience, Material


@admin.register(Material)
class MaterialAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = MaterialAdminForm
    list_display = ["shown_title", "kind", "talk", "visibility", "what", "created_at", "added_by_name"]
    list_filter = ["kind", "visibility", "event__series", "event"]
    list_select_related = ["event", "added_by", "added_by_speaker"]
    search_fields = ["title", "event__title", "url", "filename"]
    date_hierarchy = "created_at"
    readonly_fields = ["file_facts", "added_by", "added_by_speaker", "created_at", "updated_at", "public_since"]
    fieldsets = [
        (None, {"fields": ["event", "kind", "title", "visibility"]}),
        (
            _("The link, or a PDF file"),
            {"fields": ["url", "file", "file_facts"]},
        ),
        (_("Record"), {"fields": ["added_by", "added_by_speaker", "created_at", "updated_at", "public_since"]}),
    ]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.added_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description=_("title"), ordering="title")
    def shown_title(self, obj):
        return obj.display_title

    @admin.display(description=_("talk"), ordering="event__start")
    def talk(self, obj):
        return f"{obj.event.title} ({talk_when(obj.event, style=SHORT)})"

    @admin.display(description=_("link or file"))
    def what(self, obj):
        if obj.file:
            return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), obj.download_name)
        return format_html('<a href="{}" rel="noopener noreferrer">{}</a>', obj.url, obj.url)

    @admin.display(description=_("added by"))
    def added_by_name(self, obj):
        if obj.added_by_speaker_id:
            return _("%(speaker)s (speaker)") % {"speaker": obj.added_by_speaker.name}
        return obj.added_by or "–"

    @admin.display(description=_("file"))
    def file_facts(self, obj):
        if not obj.file:
            return "–"
        return format_html(
            '<a href="{}">{}</a> ({} bytes, SHA-256 {})',
            obj.get_absolute_url(),
            obj.download_name,
            obj.size,
            obj.sha256,
        )


@admin.register(Announcement)
class AnnouncementAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = AnnouncementForm
    list_display = ["event", "audience_display", "created_by", "sent_at", "recipient_count"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter), "event"]
    list_select_related = ["event", "created_by"]
    search_fields = ["event__title", "note"]
    readonly_fields = ["created_by", "created_at", "sent_by", "sent_at", "recipient_count", "delivery"]
    change_form_template = "admin/materials/announcement/change_form.html"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["event", "audience", "note"]
        return ["event", "audience", "note", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        # What was sent stays as it was sent.
        if obj is not None and obj.is_sent:
            return ["event", "audience", "note", *self.readonly_fields]
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or not obj.is_sent)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description=_("to"))
    def audience_display(self, obj):
        labels = dict(Audience.choices)
        return ", ".join(str(labels.get(value, value)) for value in obj.audience)

    @admin.display(description=_("delivery"))
    def delivery(self, obj):
        if not obj.is_sent:
            return "–"
        rows = OutgoingMail.objects.filter(kind=emails.ANNOUNCEMENT, once_key=obj.once_key).aggregate(
            sent=Count("pk", filter=Q(status=OutgoingMail.Status.SENT)),
            waiting=Count("pk", filter=Q(status__in=[OutgoingMail.Status.PENDING, OutgoingMail.Status.SENDING])),
            failed=Count("pk", filter=Q(status=OutgoingMail.Status.FAILED)),
            skipped=Count("pk", filter=Q(status=OutgoingMail.Status.SKIPPED)),
        )
        return _("%(sent)s sent, %(waiting)s waiting, %(failed)s failed, %(skipped)s not sent") % rows

    def change_view(self, request, object_id, form_url="", extra_context=None):
        announcement = self.get_object(request, object_id)
        extra = {}
        if announcement is not None:
            recipients = announcement.recipients()
            first = recipients.first()
            extra = {
                "recipient_total": recipients.count(),
                "preview_for": first,
                "preview": emails.render(announcement, first) if first else None,
            }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def response_change(self, request, obj):
        if "_send_now" not in request.POST:
            return super().response_change(request, obj)
        try:
            queued = services.send_announcement(announcement=obj, actor=request.user)
        except services.MaterialsError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(request.path)
        if queued:
            self.message_user(
                request,
                ngettext("Sent to %(count)d registrant.", "Sent to %(count)d registrants.", queued) % {"count": queued},
                messages.SUCCESS,
            )
        else:
            self.message_user(request, _("This was sent already; nobody got it twice."), messages.INFO)
        return HttpResponseRedirect(request.path)
