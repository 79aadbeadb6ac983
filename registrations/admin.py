import csv
from collections import Counter

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from events.admin import EventAdmin
from events.models import Event, Question
from events.scoping import SeriesScopedAdminMixin
from events.when import CSV, SHORT, moment_text, talk_when

from . import services
from .forms import RegistrationForm
from .models import Answer, Registration, RegistrationLog, validate_single_line

# Spreadsheets run a cell that starts with one of these as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_cell(value) -> str:
    """A value as a CSV cell that no spreadsheet will execute."""
    if value is None:
        return ""
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


class _Echo:
    """csv.writer needs a file; this one hands each line straight back to the response."""

    def write(self, value):
        return value


CSV_HEADER = [
    _("Talk"),
    _("Talk starts"),
    _("Name"),
    _("Email"),
    _("Affiliation"),
    _("Position"),
    _("Status"),
    _("Waiting list place"),
    _("Registered"),
    _("Checked in"),
    _("Cancelled"),
    _("Attends"),
]


def question_columns(queryset) -> list[str]:
    """One column per question of the exported talks; talks asking the same question share its column."""
    questions = Question.objects.filter(event__in=queryset.values("event")).order_by("event__start", "position", "pk")
    return list(dict.fromkeys(question.label for question in questions))


def waitlist_places(queryset) -> dict[int, int]:
    """The place on its waiting list of every waiting registration of the talks in `queryset`, in one query.

    In person and online attendance have a waiting list each."""
    places, counted = {}, Counter()
    waiting = (
        Registration.objects.filter(event__in=queryset.values("event"))
        .waitlisted()
        .order_by("event_id", "attendance", "created_at", "pk")
        .values_list("event_id", "attendance", "pk")
    )
    for event_id, attendance, pk in waiting.iterator():
        counted[event_id, attendance] += 1
        places[pk] = counted[event_id, attendance]
    return places


# The export's order; its answers are read in the same order and matched as both streams go.
EXPORT_ORDER = ("event__start", "created_at", "pk")


def csv_rows(queryset):
    """The CSV export, streamed: four queries and memory that does not grow with the rows (but for waiting places)."""
    writer = csv.writer(_Echo())
    questions = question_columns(queryset)
    yield writer.writerow([csv_cell(value) for value in [*CSV_HEADER, *questions]])
    places = waitlist_places(queryset)
    registrations = queryset.select_related("event__venue").order_by(*EXPORT_ORDER).iterator(chunk_size=2000)
    answers = (
        Answer.objects.filter(registration__in=queryset.values("pk"))
        .select_related("question")
        .order_by(*(f"registration__{name}" for name in EXPORT_ORDER), "question__position", "question__pk")
        .iterator(chunk_size=2000)
    )
    answer = next(answers, None)
    talk_times = {}
    for registration in registrations:
        given = {}
        while answer is not None and answer.registration_id == registration.pk:
            given.setdefault(answer.question.label, []).append(answer.display_value)
            answer = next(answers, None)
        event = registration.event
        if event.pk not in talk_times:
            talk_times[event.pk] = talk_when(event, style=CSV)
        yield writer.writerow(
            [
                csv_cell(value)
                for value in (
                    event.title,
                    talk_times[event.pk],
                    registration.name,
                    registration.email,
                    registration.affiliation,
                    registration.get_position_display(),
                    registration.get_status_display(),
                    places.get(registration.pk),
                    moment_text(event, registration.created_at, style=CSV),
                    moment_text(event, registration.checked_in_at, style=CSV),
                    moment_text(event, registration.cancelled_at, style=CSV),
                    registration.get_attendance_display(),
                    *("; ".join(given.get(label, [])) for label in questions),
                )
            ]
        )


class CheckedInFilter(admin.SimpleListFilter):
    title = _("checked in")
    parameter_name = "checked_in"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(checked_in_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(checked_in_at__isnull=True)
        return queryset


class RegistrationLogInline(admin.TabularInline):
    model = RegistrationLog
    fields = ["created_at", "action", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "history"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AnswerInline(admin.TabularInline):
    model = Answer
    fields = ["question", "answer"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("answers to the talk's questions")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("question")

    @admin.display(description=_("answer"))
    def answer(self, obj):
        return obj.display_value

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RegistrationAdminForm(forms.ModelForm):
    class Meta:
        model = Registration
        fields = ["name", "email", "affiliation", "position"]

    def validate_constraints(self):
        # The event and status are read-only here, which would make Django skip
        # the one-active-address-per-talk constraint; check it with them.
        exclude = self._get_validation_exclusions() - {"event", "status"}
        try:
            self.instance.validate_constraints(exclude=exclude)
        except ValidationError as error:
            self._update_errors(error)


class RegistrationAddForm(forms.ModelForm):
    """An organizer registers someone: validated here, then `services.register` decides the seat.

    The service runs at the end of validation (not in save) so that what it
    refuses (a draft, cancelled or full talk...) becomes an error on this form
    instead of a 500 or a message after the fact. The admin wraps the whole
    request in a transaction, so nothing stays behind when a later step fails.
    """

    event = forms.ModelChoiceField(
        label=_("Talk"),
        # Every talk, newest first: the service, not this list, says which accept registrations.
        queryset=Event.objects.select_related("venue").order_by("-start", "pk"),
        help_text=_(
            "The talk decides: a free seat confirms, a full talk puts the person on its waiting list. "
            "To give more seats, raise the talk's capacity (the waiting list moves up at once)."
        ),
    )
    # Declared, not generated: the validator must see line breaks before clean_name folds whitespace.
    name = forms.CharField(label=_("Name"), max_length=200, validators=[validate_single_line])
    email = forms.EmailField(label=_("Email"), max_length=254, help_text=_("The confirmation email is sent here."))
    position = forms.ChoiceField(
        label=_("Position"), choices=[("", _("Not given")), *Registration.Position.choices], required=False
    )

    # Set by RegistrationAdmin.get_form: the organizer recorded in the history.
    actor = None

    class Meta:
        model = Registration
        fields = ["event", "attendance", "name", "email", "affiliation", "position"]

    clean_name = RegistrationForm.clean_name
    clean_email = RegistrationForm.clean_email

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event"].label_from_instance = self.event_label

    @staticmethod
    def event_label(event):
        return f"{event.title} – {talk_when(event, style=SHORT)} ({event.get_status_display()})"

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        data = self.cleaned_data
        try:
            with transaction.atomic():
                result = services.register(
                    event=data["event"],
                    name=data["name"],
                    email=data["email"],
                    affiliation=data["affiliation"],
                    position=data["position"],
                    attendance=data["attendance"],
                    actor=self.actor,
                )
                if result.already_registered:
                    # `register` answers a known address by queueing the confirmation
                    # again, meant for a person who lost it. An organizer typing the
                    # address wants to be told instead, and the registrant should get no
                    # surprise email: undo that resend (and its history entry).
                    transaction.set_rollback(True)
        except services.RegistrationError as error:
            self.add_error(None, ValidationError(error.message, code=error.code))
            return
        if result.already_registered:
            existing = result.registration
            url = reverse("admin:registrations_registration_change", args=[existing.pk])
            self.add_error(
                None,
                ValidationError(
                    format_html(
                        gettext(
                            'This email address is already registered for this talk (<a href="{}">{}</a>, {}). '
                            "Nothing was added."
                        ),
                        url,
                        existing.name,
                        existing.get_status_display().lower(),
                    ),
                    code="already_registered",
                ),
            )
            return
        self.instance = result.registration


@admin.register(Registration)
class RegistrationAdmin(SeriesScopedAdminMixin, admin.ModelAdmin):
    form = RegistrationAdminForm
    list_display = [
        "name",
        "email",
        "event",
        "status",
        "attendance",
        "position",
        "affiliation",
        "created_at",
        "checked_in_at",
    ]
    list_filter = ["event", "status", "attendance", "position", CheckedInFilter]
    list_select_related = ["event"]
    search_fields = ["name", "email", "affiliation"]
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
        "created_at",
        "cancelled_at",
        "checked_in_at",
        "no_show_at",
        "email_bounced_at",
        "erased_at",
    ]
    inlines = [AnswerInline, RegistrationLogInline]
    actions = ["cancel_registrations", "promote_from_waitlist", "check_in", "export_csv", "erase_personal_data"]

    # Adding goes through services.register (see RegistrationAddForm): status
    # and seat are the service's to decide, so the add form shows neither.
    add_fields = ["event", "attendance", "name", "email", "affiliation", "position"]

    def get_fields(self, request, obj=None):
        return self.add_fields if obj is None else self.fields

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

    @admin.action(description=_("Export selected registrations as CSV"), permissions=["view"])
    def export_csv(self, request, queryset):
        response = StreamingHttpResponse(csv_rows(queryset), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="registrations.csv"'
        return response


class RegistrationInline(admin.TabularInline):
    model = Registration
    fields = ["name", "email", "affiliation", "position", "status", "attendance", "created_at", "checked_in_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["status", "created_at", "pk"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EventUpdateForm(forms.ModelForm):
    """The talk form, asking whether a change reaches the registrants' calendars, as calendar apps ask.

    A change to what an invite shows (title, speakers, abstract, time, place)
    of a published talk with confirmed registrants is saved only once the
    organizer has answered; the answer is preselected: yes for the time or
    place, no for the text.
    """

    send_update = forms.ChoiceField(
        choices=[
            ("yes", _("Yes, send them the update")),
            ("no", _("No, leave their calendars as they are")),
        ],
        widget=forms.RadioSelect,
        required=False,
        help_text=_(
            "Asked when you change the title, speakers, abstract, time or place. An update is an email with "
            "a new invite that replaces the talk in their calendars."
        ),
    )
    # Confirmed registrants of the talk being edited (set by the admin's get_form).
    registrant_count = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        count = self.registrant_count
        self.fields["send_update"].label = ngettext(
            "Send an update to the %(count)d registrant?", "Send an update to the %(count)d registrants?", count
        ) % {"count": count}

    def invite_changes(self) -> frozenset:
        if self.instance._state.adding or not self.is_bound:
            return frozenset()
        return frozenset(self.changed_data) & {*Event.TIME_AND_PLACE_FIELDS, *Event.TEXT_FIELDS}

    def asks(self) -> bool:
        published = Event.Status.PUBLISHED
        return bool(
            self.registrant_count
            and self.invite_changes()
            and self.initial.get("status") == published
            and self.cleaned_data.get("status") == published
        )

    def sends_update(self) -> bool:
        return self.asks() and self.cleaned_data.get("send_update") == "yes"

    def clean(self):
        cleaned = super().clean()
        if self.asks() and not cleaned.get("send_update"):
            default = "yes" if services.update_wanted_by_default(self.invite_changes()) else "no"
            self.data = self.data.copy()
            self.data[self.add_prefix("send_update")] = default
            self.add_error(
                "send_update",
                ValidationError(
                    _("This change shows in their calendars: choose whether to send them an update, then save."),
                    code="send_update",
                ),
            )
        return cleaned


class EventWithRegistrationsAdmin(EventAdmin):
    """The talk admin of `events`, plus seat counts and the registrations (events knows no registrants)."""

    form = EventUpdateForm
    list_display = [*EventAdmin.list_display, "confirmed", "capacity", "waitlisted"]
    inlines = [*EventAdmin.inlines, RegistrationInline]

    def _registrant_count(self, obj) -> int:
        return Registration.objects.filter(event=obj).confirmed().count() if obj is not None else 0

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self._registrant_count(obj):
            return fieldsets
        return [*fieldsets, (_("Registrants' calendars"), {"fields": ["send_update"]})]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"registrant_count": self._registrant_count(obj)})

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                confirmed_count=Count("registrations", filter=Q(registrations__status=Registration.Status.CONFIRMED)),
                waitlisted_count=Count("registrations", filter=Q(registrations__status=Registration.Status.WAITLISTED)),
            )
        )

    @admin.display(description=_("confirmed"), ordering="confirmed_count")
    def confirmed(self, obj):
        return obj.confirmed_count

    @admin.display(description=_("waiting"), ordering="waitlisted_count")
    def waitlisted(self, obj):
        return obj.waitlisted_count

    def save_model(self, request, obj, form, change):
        if form.asks():
            # The organizer answered; save_related acts on it once the speakers are saved too.
            obj.announce_changes = False
        # A new capacity goes through the service, under the event lock, so it
        # is checked against the places taken now and promotes at once.
        changes = {
            field: (getattr(obj, field), change_capacity)
            for field, change_capacity in (
                ("capacity", services.change_capacity),
                ("online_capacity", services.change_online_capacity),
            )
            if change and field in form.changed_data
        }
        for field in changes:
            setattr(obj, field, form.initial[field])
        super().save_model(request, obj, form, change)
        for capacity, change_capacity in changes.values():
            try:
                promoted = change_capacity(event=obj, capacity=capacity, actor=request.user)
            except services.RegistrationError as error:
                self.message_user(
                    request,
                    gettext("The capacity was not changed: %(reason)s") % {"reason": error.message},
                    messages.ERROR,
                )
            else:
                if promoted:
                    self.message_user(
                        request,
                        ngettext(
                            "%(count)d registration promoted from the waiting list.",
                            "%(count)d registrations promoted from the waiting list.",
                            len(promoted),
                        )
                        % {"count": len(promoted)},
                        messages.SUCCESS,
                    )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not form.asks():
            return
        if form.sends_update():
            event, changes = form.instance, form.invite_changes()
            transaction.on_commit(
                lambda: services.send_event_update(event=event, changed_fields=changes, actor=request.user)
            )
            self.message_user(
                request,
                ngettext(
                    "An update of the talk goes to its %(count)d registrant.",
                    "An update of the talk goes to its %(count)d registrants.",
                    form.registrant_count,
                )
                % {"count": form.registrant_count},
                messages.SUCCESS,
            )
        else:
            self.message_user(request, _("No update was sent: registrants' calendars show the talk as before."))


admin.site.unregister(Event)
admin.site.register(Event, EventWithRegistrationsAdmin)
