import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext_lazy as _

from events.models import Question

from .models import Answer, Registration, validate_single_line

SHORT_ANSWER_LENGTH = 300
LONG_ANSWER_LENGTH = 2000
QUESTION_PREFIX = "question_"


class SingleLineField(forms.CharField):
    """A line of text held to `validate_single_line`, which refuses the null character with the rest.

    Without Django's own null-character check: a name with one would get two messages at once.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        others = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]
        self.validators = [validate_single_line, *others]


def question_field(question: Question) -> forms.Field:
    """The form field that asks `question`; what it accepts is all the server accepts."""
    common = {
        "label": question.label,
        "help_text": question.help_text,
        "required": question.required,
        "error_messages": {"required": _("Please answer this question.")},
    }
    kind = question.kind
    if kind == Question.Kind.SHORT_TEXT:
        return SingleLineField(max_length=SHORT_ANSWER_LENGTH, **common)
    if kind == Question.Kind.LONG_TEXT:
        return forms.CharField(
            max_length=LONG_ANSWER_LENGTH, widget=forms.Textarea(attrs={"rows": 3, "cols": 40}), **common
        )
    if kind == Question.Kind.YES_NO:
        choices = [(Answer.YES, _("Yes")), (Answer.NO, _("No"))]
    else:
        choices = [(choice, choice) for choice in question.choice_list]
    # The refused value is not repeated: it came from a forged request, not from this form.
    common["error_messages"]["invalid_choice"] = _(
        "That is not one of the answers offered. Please choose from the list."
    )
    if kind == Question.Kind.MULTIPLE_CHOICE:
        return forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple, **common)
    return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)


def attendance_field(event) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("How will you attend?"),
        choices=[
            (Registration.Attendance.IN_PERSON, _("In person, in %(room)s") % {"room": event.venue.room}),
            (Registration.Attendance.ONLINE, _("Online: we send you the link")),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Please choose how you will attend."),
            "invalid_choice": _("Please choose in person or online."),
        },
    )


class _SharedFields(dict):
    """A form class's fields, shared by its forms instead of deep-copied for each one (BaseForm.__init__).

    The copy is there so that one form may change a field without the next form seeing it. The
    registration form never changes a field it was given: what differs from talk to talk (how to
    attend, the talk's questions) is a field made new for each form. And every sign-up builds one, so
    the copy of its fields and their widgets was a tenth of the time a sign-up takes in Python.
    """

    def __deepcopy__(self, memo):
        return dict(self)


class RegistrationForm(forms.Form):
    name = SingleLineField(
        label=_("Name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=_("Your confirmation and the link to cancel are sent here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        # Django's own words, in the site's catalogue: its Spanish addresses people as "usted", the site as "tú".
        error_messages={"invalid": _("Enter a valid email address.")},
    )
    affiliation = SingleLineField(
        label=_("Affiliation"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    position = forms.ChoiceField(
        label=_("Position"),
        choices=[("", _("Prefer not to say")), *Registration.Position.choices],
        required=False,
    )
    consent = forms.BooleanField(
        label=_(
            "I agree that my name, email, affiliation and position are stored to manage my registration, "
            "as described in the privacy notice."
        ),
        error_messages={"required": _("Please agree to the privacy notice so we can keep your registration.")},
    )
    # A trap for bots: hidden from people (and from screen readers), so only
    # a form filler that writes into every field puts something here.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    # Shorter names for the error summary where the label is a whole sentence.
    summary_labels = {"consent": _("Privacy notice")}

    def __init__(self, *args, questions=(), event=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.event = event
        if event is not None and event.has_online and event.has_in_person:
            # Asked first: it decides which places and waiting list the person joins.
            self.fields = {"attendance": attendance_field(event), **self.fields}
        self.questions = list(questions)
        # The talk's own questions come after the standard fields, before the consent.
        tail = {name: self.fields.pop(name) for name in ("consent", "website")}
        for question in self.questions:
            self.fields[f"{QUESTION_PREFIX}{question.pk}"] = question_field(question)
        self.fields.update(tail)

    def chosen_attendance(self) -> str:
        """How the person attends: their choice for a hybrid talk, else the talk's only way."""
        if "attendance" in self.fields:
            return self.cleaned_data["attendance"]
        if self.event is not None and not self.event.has_in_person:
            return Registration.Attendance.ONLINE
        return Registration.Attendance.IN_PERSON

    def question_fields(self):
        return [self[f"{QUESTION_PREFIX}{question.pk}"] for question in self.questions]

    def answers(self) -> dict[int, str]:
        """The cleaned answers by question id, as `Answer.value` stores them; unanswered ones left out."""
        answers = {}
        for question in self.questions:
            value = self.cleaned_data.get(f"{QUESTION_PREFIX}{question.pk}")
            if isinstance(value, list):
                value = "\n".join(value)
            value = (value or "").strip()
            if value:
                answers[question.pk] = value
        return answers

    def error_summary(self) -> list[dict]:
        """Each field error with the id of the control to jump to (the first option of a group)."""
        summary = []
        for bound_field in self:
            if not bound_field.errors or bound_field.name == "website":
                continue
            target = bound_field.auto_id
            if bound_field.use_fieldset:
                target = f"{target}_0"
            label = self.summary_labels.get(bound_field.name, bound_field.label)
            summary.extend({"label": label, "message": error, "target": target} for error in bound_field.errors)
        return summary

    def clean_name(self):
        # Runs of spaces are collapsed: they only make the same name look different.
        name = " ".join(self.cleaned_data["name"].split())
        # Zero-width and other format characters alone (U+200B, U+FEFF...) look blank on every page.
        if all(char.isspace() or unicodedata.category(char) == "Cf" for char in name):
            raise ValidationError(_("Please enter your name."), code="required")
        return name

    def clean_email(self):
        return self.cleaned_data["email"].strip()

    def clean(self):
        cleaned_data = super().clean()
        # Reported as a form-wide error: the field itself is invisible.
        if cleaned_data.get("website"):
            raise ValidationError(
                _(
                    "This form was filled in automatically, so it was not sent. If you are a person, leave the last "
                    "field empty."
                ),
                code="honeypot",
            )
        return cleaned_data


RegistrationForm.base_fields = _SharedFields(RegistrationForm.base_fields)


class LostLinkForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=_("The address you registered with."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def clean_email(self):
        return self.cleaned_data["email"].strip()
