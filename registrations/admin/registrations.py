"""The registrations admin: the list, a registration's page, adding one, and the actions on a selection."""

from collections import Counter

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.options import get_content_type_for_model
from django.http import StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from events.models import Event
from events.scoping import SeriesScopedAdminMixin
from seminar_site.addresses import readable_address
from seminar_site.admin_columns import ZonedTimesMixin, site_time

from .. import services
from ..models import Registration
from .export import csv_rows
from .filters import CheckedInFilter
from .forms import RegistrationAddForm, RegistrationAdminForm
from .inlines import AnswerInline, RegistrationLogInline


@admin.register(Registration)
class RegistrationAdmin(SeriesScopedAdminMixin, ZonedTimesMixin, admin.ModelAdmin):
    form = RegistrationAdminForm
    list_display = [
        "name",
        "address",
        "event",
        "status",
        "attendance",
        "position",
        "affiliation",
        site_time(Registration, "created_at"),
        site_time(Registration, "checked_in_at"),
    ]
    list_filter = ["event", "status", "hold_reason", "attendance", "position", CheckedInFilter]
    list_select_related = ["event"]
    # Names and addresses are found through the search key (see get_search_results).
    search_fields = ["affiliation"]
    search_help_text = _("A name, an address or an affiliation: any letter case, any accent.")
    date_hierarchy = "created_at"
    fields = [
        "event",
        "status",
        "attendance",
        "name",
        "email",
        "affiliation",
        "position",
        "language",
        "hold_until",
        "hold_reason",
        "created_at",
        "cancelled_at",
        "checked_in_at",
        "no_show_at",
        "email_bounced_at",
        "erased_at",
    ]
    # Seats change only through the actions below: editing the status here
    # would bypass the seat counter and the waiting list.
    readonly_fields = [
        "event",
        "status",
        "attendance",
        "language",  # the one they registered in: every email to them is written in it
        "hold_until",
        "hold_reason",
        "created_at",
        "cancelled_at",
        "checked_in_at",
        "no_show_at",
        "email_bounced_at",
        "erased_at",
    ]
    inlines = [AnswerInline, RegistrationLogInline]
    object_history_template = "admin/registrations/registration/object_history.html"
    actions = [
        "cancel_registrations",
        "promote_from_waitlist",
        "confirm_holds",
        "check_in",
        "export_csv",
        "erase_personal_data",
    ]

    # Adding goes through services.register (see RegistrationAddForm): status
    # and seat are the service's to decide, so the add form shows neither.
    add_fields = ["event", "attendance", "name", "email", "affiliation", "position"]

    def get_fields(self, request, obj=None):
        return self.add_fields if obj is None else self.fields

    def history_view(self, request, object_id, extra_context=None):
        """The registration's story (the "History" button): its log, with the edits made in this form.

        Django's own page lists only those edits, so for most registrations it
        said there was no history at all. Scoping (an out-of-scope id is a 404)
        and permissions are the admin's, as for any history page.
        """
        response = super().history_view(request, object_id, extra_context)
        if isinstance(response, TemplateResponse):
            response.context_data["history"] = history_of(response.context_data["object"])
        return response

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = type("RegistrationAddForm", (RegistrationAddForm,), {"actor": request.user})
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # The service saved it while validating the form.
        if obj.status == Registration.Status.CONFIRMED:
            self.message_user(
                request, gettext("%(name)s has a seat; the confirmation email is on its way.") % {"name": obj.name}
            )
        else:
            self.message_user(
                request,
                gettext(
                    "The talk is full: %(name)s is number %(position)s on the waiting list and was told so by email."
                )
                % {"name": obj.name, "position": obj.waitlist_position()},
                messages.WARNING,
            )

    @admin.display(description=_("email"), ordering="email")
    def address(self, registration):
        return readable_address(registration.email)

    def get_search_results(self, request, queryset, search_term):
        # Names and addresses as the door finds them: any letter case, any accent, an international
        # domain as typed (registrations/search.py); the affiliation as the admin compares text.
        by_affiliation, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if not search_term.strip():
            return by_affiliation, may_have_duplicates
        return by_affiliation | queryset.matching(search_term), may_have_duplicates

    def has_delete_permission(self, request, obj=None):
        # A deleted row would leave its seat counted; cancelling frees it properly.
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if obj.erased_at is not None:
            # Nobody should type a person back into an erased registration.
            return self.fields
        return self.readonly_fields

    @admin.action(
        description=_("Cancel selected registrations (promotes from the waiting list)"), permissions=["change"]
    )
    def cancel_registrations(self, request, queryset):
        to_cancel = queryset.exclude(status=Registration.Status.CANCELLED)
        if not _confirmed(request) and to_cancel.exists():
            return self._confirmation(
                request,
                to_cancel,
                action="cancel_registrations",
                title=gettext("Cancel registrations"),
                question=gettext("Cancel these registrations?"),
                consequence=gettext(
                    "Each person is emailed that their registration is cancelled, with a calendar update that "
                    "removes the talk; freed seats go to the waiting list. This cannot be undone."
                ),
                confirm_label=gettext("Yes, cancel them"),
            )
        cancelled, promoted, refusals = 0, 0, Counter()
        for registration in queryset.order_by("created_at", "pk"):
            try:
                promoted += len(services.cancel_registration(registration=registration, actor=request.user))
            except services.RegistrationError as error:
                refusals[error.message] += 1
            else:
                cancelled += 1
        self.message_user(
            request,
            ngettext(
                "Cancelled %(count)d registration; %(promoted)d promoted from the waiting list.",
                "Cancelled %(count)d registrations; %(promoted)d promoted from the waiting list.",
                cancelled,
            )
            % {"count": cancelled, "promoted": promoted},
            messages.SUCCESS if cancelled else messages.WARNING,
        )
        for reason, count in refusals.items():
            self.message_user(
                request,
                gettext("%(count)d left as they were: %(reason)s") % {"count": count, "reason": reason},
                messages.WARNING,
            )

    @admin.action(description=_("Fill free seats of these talks from the waiting list"), permissions=["change"])
    def promote_from_waitlist(self, request, queryset):
        promoted, refused = 0, []
        for event in Event.objects.filter(pk__in=queryset.values("event")):
            try:
                promoted += len(services.promote_waitlist(event=event, actor=request.user))
            except services.RegistrationError as error:
                refused.append(f"{event}: {error.message}")
        self.message_user(
            request,
            ngettext(
                "Promoted %(count)d registration from the waiting list.",
                "Promoted %(count)d registrations from the waiting list.",
                promoted,
            )
            % {"count": promoted},
            messages.SUCCESS,
        )
        for message in refused:
            self.message_user(request, message, messages.WARNING)

    @admin.action(
        description=_("Confirm selected held seats and places (as if they pressed the button in their email)"),
        permissions=["change"],
    )
    def confirm_holds(self, request, queryset):
        confirmed, refusals = 0, Counter()
        for registration in queryset.awaiting_confirmation().order_by("created_at", "pk"):
            try:
                services.confirm_hold(registration=registration, actor=request.user)
            except services.RegistrationError as error:
                refusals[error.message] += 1
            else:
                confirmed += 1
        self.message_user(
            request,
            ngettext(
                "Confirmed %(count)d registration; a held seat's confirmation email is on its way.",
                "Confirmed %(count)d registrations; held seats' confirmation emails are on their way.",
                confirmed,
            )
            % {"count": confirmed},
            messages.SUCCESS if confirmed else messages.WARNING,
        )
        for reason, count in refusals.items():
            self.message_user(
                request,
                gettext("%(count)d left as they were: %(reason)s") % {"count": count, "reason": reason},
                messages.WARNING,
            )

    @admin.action(description=_("Check in selected registrations"), permissions=["change"])
    def check_in(self, request, queryset):
        checked_in, refused = 0, 0
        for registration in queryset:
            try:
                services.check_in(registration=registration, actor=request.user)
            except services.RegistrationError:
                refused += 1
            else:
                checked_in += 1
        self.message_user(
            request,
            ngettext("Checked in %(count)d registration.", "Checked in %(count)d registrations.", checked_in)
            % {"count": checked_in},
            messages.SUCCESS,
        )
        if refused:
            self.message_user(
                request,
                gettext("%(count)d not checked in: only confirmed seats in the room not yet checked in can be.")
                % {"count": refused},
                messages.WARNING,
            )

    @admin.action(
        description=_("Erase personal data (cancels registrations for talks not yet over)"), permissions=["change"]
    )
    def erase_personal_data(self, request, queryset):
        to_erase = queryset.filter(erased_at__isnull=True)
        if not _confirmed(request) and to_erase.exists():
            return self._confirmation(
                request,
                to_erase,
                action="erase_personal_data",
                title=gettext("Erase personal data"),
                question=gettext("Erase the personal data of these registrations?"),
                consequence=gettext(
                    "Names, addresses, affiliations and answers are removed for good; active registrations are "
                    "cancelled first and their seats freed. This cannot be undone."
                ),
                confirm_label=gettext("Yes, erase them"),
            )
        selected = queryset.count()
        erased = services.erase_personal_data(
            registrations=queryset, actor=request.user, note=gettext("Erased on request.")
        )
        self.message_user(
            request,
            ngettext(
                "Erased the personal data of %(count)d registration.",
                "Erased the personal data of %(count)d registrations.",
                erased,
            )
            % {"count": erased},
            messages.SUCCESS,
        )
        if selected > erased:
            self.message_user(
                request,
                gettext("%(count)d were erased already and were left alone.") % {"count": selected - erased},
                messages.INFO,
            )

    def _confirmation(self, request, queryset, *, action: str, **texts):
        """The page that asks before an action that emails people or cannot be undone, as Django's delete does.

        It lists how many of `queryset` (the selection the action would change) each talk has; its
        button posts the selection again, confirmed. A selection the action would not change runs at
        once: its messages say so, and nobody is emailed.
        """
        by_talk = Counter(queryset.values_list("event__title", flat=True))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "selected": list(queryset.values_list("pk", flat=True)),
            "by_talk": sorted(by_talk.items()),
            **texts,
        }
        return TemplateResponse(request, "admin/registrations/registration/action_confirmation.html", context)

    @admin.action(description=_("Export selected registrations as CSV"), permissions=["view"])
    def export_csv(self, request, queryset):
        response = StreamingHttpResponse(csv_rows(queryset), content_type="text/csv; charset=utf-8")
        # One talk's export is named after it, so that several downloads can be told apart.
        talks = list(queryset.order_by().values_list("event__slug", flat=True).distinct()[:2])
        name = f"registrations-{talks[0]}.csv" if len(talks) == 1 else "registrations.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


def history_of(registration: Registration) -> list[dict]:
    """Everything that happened to `registration`, oldest first: its log, and its edits in the admin form.

    The log has every change the services made (the registration, seats,
    emails, check-in...), each with who made it; an edit of the name, email or
    affiliation in the form is only in Django's admin log, as "Changed ...".
    """
    log = registration.log.select_related("actor")
    edits = LogEntry.objects.filter(
        content_type=get_content_type_for_model(registration), object_id=str(registration.pk), action_flag=CHANGE
    ).select_related("user")
    rows = [
        {
            "when": entry.created_at,
            "what": entry.get_action_display(),
            "from_status": entry.get_from_status_display(),
            "to_status": entry.get_to_status_display(),
            "by": entry.actor,
            "note": entry.note,
        }
        for entry in log
    ] + [
        {
            "when": edit.action_time,
            "what": gettext("Edited in the admin"),
            "from_status": "",
            "to_status": "",
            "by": edit.user,
            "note": edit.get_change_message(),
        }
        for edit in edits
    ]
    return sorted(rows, key=lambda row: row["when"])


def _confirmed(request) -> bool:
    # Set by the confirmation page's button; the action list's own "Go" never sends it.
    return request.POST.get("confirmed") == "yes"
