"""Admin forms: editing and adding a registration, and the talk form that asks about calendar updates."""

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from events.forms import EventAdminForm
from events.models import Event
from events.when import SHORT, talk_when
from seminar_site.addresses import ascii_address

from .. import services
from ..forms import RegistrationForm, SingleLineField
from ..models import Registration


class RegistrationAdminForm(forms.ModelForm):
    class Meta:
        model = Registration
        fields = ["name", "email", "affiliation", "position"]
        # One message for a null character too, as on the public form.
        field_classes = {"name": SingleLineField, "affiliation": SingleLineField}

    def clean_email(self):
        # As the services store an address (seminar_site/addresses.py): one mailbox, one spelling.
        return ascii_address(self.cleaned_data["email"].strip())

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
    name = SingleLineField(label=_("Name"), max_length=200)
    email = forms.EmailField(label=_("Email"), max_length=254, help_text=_("The confirmation email is sent here."))
    position = forms.ChoiceField(
        label=_("Position"), choices=[("", _("Not given")), *Registration.Position.choices], required=False
    )

    # Set by RegistrationAdmin.get_form: the organizer recorded in the history.
    actor = None

    class Meta:
        model = Registration
        fields = ["event", "attendance", "name", "email", "affiliation", "position"]
        field_classes = {"affiliation": SingleLineField}

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


class EventUpdateForm(EventAdminForm):
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

    def announced_changes(self) -> frozenset:
        """What registrants may hear of once saved: what their invites show, the stream link included."""
        link = frozenset(self.changed_data) & set(Event.STREAM_FIELDS) if self.is_bound else frozenset()
        return self.invite_changes() | link

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
