from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from events.models import Event
from events.when import SHORT, talk_when
from outbox.models import OutgoingMail
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


@admin.register(Mailing)
class MailingAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = MailingForm
    list_display = ["subject", "event", "audience_display", "created_by", "sent_at", "recipient_count"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter), "event"]
    list_select_related = ["event", "created_by"]
    search_fields = ["subject", "body", "event__title"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_by", "created_at", "sent_by", "sent_at", "recipient_count", "delivery"]
    change_form_template = "admin/mailings/mailing/change_form.html"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["event", "audience", "subject", "body"]
        return ["event", "audience", "subject", "body", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        # What was sent stays as it was sent: the history.
        if obj is not None and obj.is_sent:
            return ["event", "audience", "subject", "body", *self.readonly_fields]
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
        rows = OutgoingMail.objects.filter(kind=emails.MESSAGE, data__mailing=obj.pk).aggregate(
            sent=Count("pk", filter=Q(status=OutgoingMail.Status.SENT)),
            waiting=Count("pk", filter=Q(status__in=[OutgoingMail.Status.PENDING, OutgoingMail.Status.SENDING])),
            failed=Count("pk", filter=Q(status=OutgoingMail.Status.FAILED)),
            skipped=Count("pk", filter=Q(status=OutgoingMail.Status.SKIPPED)),
            bounced=Count("pk", filter=Q(bounced_at__isnull=False)),
        )
        return (
            _("%(sent)s sent, %(waiting)s waiting, %(failed)s failed, %(skipped)s not sent, %(bounced)s bounced") % rows
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        mailing = self.get_object(request, object_id)
        extra = {}
        if mailing is not None:
            recipients = mailing.recipients()
            first = recipients.first()
            extra = {
                "recipient_total": recipients.count(),
                "preview_for": first,
                "preview": emails.render(mailing, first) if first else None,
            }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

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
