from django.contrib import admin, messages
from django.http import HttpResponseRedirect, QueryDict
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from events.when import SHORT, talk_when
from mailings.admin import SentOnceAdmin
from outbox.models import OutgoingMail
from seminar_site.admin_columns import ZonedTimesMixin, site_time
from seminar_site.scoping import ScopedAdminMixin

from . import emails, services
from .forms import AnnouncementForm, MaterialAdminForm
from .models import Announcement, Audience, Material


@admin.register(Material)
class MaterialAdmin(ScopedAdminMixin, ZonedTimesMixin, admin.ModelAdmin):
    form = MaterialAdminForm
    list_display = [
        "shown_title",
        "kind",
        "talk",
        "visibility",
        "what",
        site_time(Material, "created_at"),
        "added_by_name",
    ]
    list_filter = ["kind", "visibility", "event__series", "event"]
    list_select_related = ["event__venue", "added_by", "added_by_speaker"]
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

    def get_changeform_initial_data(self, request):
        # "Add material" from one talk's materials (the list filtered by it) is for that talk.
        initial = super().get_changeform_initial_data(request)
        talk = QueryDict(request.GET.get("_changelist_filters", "")).get("event__id__exact")
        if talk and "event" not in initial:
            initial["event"] = talk
        return initial

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
class AnnouncementAdmin(SentOnceAdmin):
    form = AnnouncementForm
    message_fields = ["event", "audience", "note"]
    audience_choices = Audience.choices
    emails = emails
    list_display = ["event", "audience_display", "created_by", site_time(Announcement, "sent_at"), "recipient_count"]
    search_fields = ["event__title", "note"]
    change_form_template = "admin/materials/announcement/change_form.html"

    def sent_mail(self, obj):
        return OutgoingMail.objects.filter(kind=emails.ANNOUNCEMENT, once_key=obj.once_key)

    def unsendable_reason(self, obj) -> str:
        if not obj.event.is_past():
            return _("The talk is not over yet: its materials can be announced once it has ended.")
        return ""

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
