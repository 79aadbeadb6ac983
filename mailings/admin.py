from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from events.models import Event
from events.when import SHORT, talk_when
from outbox.models import OutgoingMail
from seminar_site.admin_columns import ZonedTimesMixin, site_time
from seminar_site.scoping import ScopedAdminMixin

from . import emails, services
from .models import Audience, Mailing


class MailingForm(forms.ModelForm):
    audience = forms.MultipleChoiceField(
        label=_("To"),
        choices=Audience.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[Audience.CONFIRMED],
        help_text=_("Cancelled registrations and erased ones never get messages."),
    )
    event = forms.ModelChoiceField(label=_("Talk"), queryset=Event.objects.order_by("-start", "pk"))

    class Meta:
        model = Mailing
        fields = ["event", "audience", "subject", "body"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "event" in self.fields:  # absent once sent: then every field is read-only
            self.fields["event"].label_from_instance = lambda event: f"{event.title} ({talk_when(event, style=SHORT)})"


class SentOnceAdmin(ScopedAdminMixin, ZonedTimesMixin, admin.ModelAdmin):
    """A message to a talk's registrants, written here and then sent once through the outbox.

    Subclasses name the fields written before sending (`message_fields`),
    the module that renders the email (`emails`, with `render(message,
    registration)`), the audience's choices, and `sent_mail(obj)`: the
    outbox's rows of this message. Once sent it stays as it was sent (the
    history), and cannot be deleted.
    """

    message_fields: list[str] = []
    audience_choices: list[tuple[str, str]] = []
    emails = None
    list_filter = [("sent_at", admin.EmptyFieldListFilter), "event"]
    # Its absolute URL is this admin page: "View on site" would only reload it.
    view_on_site = False
    list_select_related = ["event", "created_by"]
    readonly_fields = ["created_by", "created_at", "sent_by", "sent_at", "recipient_count", "delivery"]

    def sent_mail(self, obj):
        raise NotImplementedError

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.message_fields
        return [*self._shown_message_fields(obj), *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_sent:
            return [*self._shown_message_fields(obj), *self.readonly_fields]
        return self.readonly_fields

    def _shown_message_fields(self, obj):
        # Once sent, the audience is read-only: shown by its labels, not as the list stored.
        if not obj.is_sent:
            return self.message_fields
        return ["audience_display" if name == "audience" else name for name in self.message_fields]

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or not obj.is_sent)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description=_("to"))
    def audience_display(self, obj):
        labels = dict(self.audience_choices)
        return ", ".join(str(labels.get(value, value)) for value in obj.audience)

    @admin.display(description=_("delivery"))
    def delivery(self, obj):
        if not obj.is_sent:
            return "–"
        return (
            _("%(sent)s sent, %(waiting)s waiting, %(failed)s failed, %(skipped)s not sent, %(bounced)s bounced")
            % self.sent_mail(obj).delivery_counts()
        )

    def unsendable_reason(self, obj) -> str:
        """Why `obj` cannot be sent now (shown instead of the send button), or "" when it can."""
        return ""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The email as its first recipient would get it, and how many would.
        message = self.get_object(request, object_id)
        extra = {}
        if message is not None:
            recipients = message.recipients()
            first = recipients.first()
            extra = {
                "recipient_total": recipients.count(),
                "preview_for": first,
                "preview": self.emails.render(message, first) if first else None,
                "unsendable_reason": self.unsendable_reason(message),
            }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def response_add(self, request, obj, post_url_continue=None):
        # Saving writes a draft: its own page shows the preview and the buttons that send it.
        if "_addanother" in request.POST or "_popup" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(request, _("Saved, not sent yet: check the preview below, then send it."), messages.SUCCESS)
        return HttpResponseRedirect(
            reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
        )


@admin.register(Mailing)
class MailingAdmin(SentOnceAdmin):
    form = MailingForm
    message_fields = ["event", "audience", "subject", "body"]
    audience_choices = Audience.choices
    emails = emails
    list_display = [
        "subject",
        "event",
        "audience_display",
        "created_by",
        site_time(Mailing, "sent_at"),
        "recipient_count",
    ]
    search_fields = ["subject", "body", "event__title"]
    date_hierarchy = "created_at"
    change_form_template = "admin/mailings/mailing/change_form.html"

    def sent_mail(self, obj):
        return OutgoingMail.objects.filter(kind=emails.MESSAGE, data__mailing=obj.pk)

    def response_change(self, request, obj):
        if "_send_test" in request.POST:
            try:
                services.send_test(mailing=obj, to=request.user.email, actor=request.user)
            except services.MailingError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, _("A test copy is on its way to %(to)s.") % {"to": request.user.email})
            return HttpResponseRedirect(request.path)
        if "_send_now" in request.POST:
            try:
                queued = services.send_mailing(mailing=obj, actor=request.user)
            except services.MailingError as error:
                self.message_user(request, error.message, messages.ERROR)
                return HttpResponseRedirect(request.path)
            if queued:
                self.message_user(
                    request,
                    ngettext("Sent to %(count)d registrant.", "Sent to %(count)d registrants.", queued)
                    % {"count": queued},
                    messages.SUCCESS,
                )
            else:
                self.message_user(request, _("This message was sent already; nobody got it twice."), messages.INFO)
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)
