import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Registration, validate_single_line


class RegistrationForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=200,
        validators=[validate_single_line],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label="Email",
        max_length=254,
        help_text="Your confirmation and the link to cancel are sent here.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    affiliation = forms.CharField(
        label="Affiliation",
        max_length=200,
        required=False,
        validators=[validate_single_line],
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    position = forms.ChoiceField(
        label="Position",
        choices=[("", "Prefer not to say"), *Registration.Position.choices],
        required=False,
    )
    consent = forms.BooleanField(
        label="I agree that my name, email, affiliation and position are stored to manage my registration, "
        "as described in the privacy notice.",
        error_messages={"required": "Please agree to the privacy notice so we can keep your registration."},
    )
    # A trap for bots: hidden from people (and from screen readers), so only
    # a form filler that writes into every field puts something here.
    website = forms.CharField(
        label="Leave this field empty",
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def clean_name(self):
        # Runs of spaces are collapsed: they only make the same name look different.
        name = " ".join(self.cleaned_data["name"].split())
        # Zero-width and other format characters alone (U+200B, U+FEFF...) look blank on every page.
        if all(char.isspace() or unicodedata.category(char) == "Cf" for char in name):
            raise ValidationError("Please enter your name.", code="required")
        return name

    def clean_email(self):
        return self.cleaned_data["email"].strip()

    def clean(self):
        cleaned_data = super().clean()
        # Reported as a form-wide error: the field itself is invisible.
        if cleaned_data.get("website"):
            raise ValidationError(
                "This form was filled in automatically, so it was not sent. If you are a person, leave the last "
                "field empty.",
                code="honeypot",
            )
        return cleaned_data


class LostLinkForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=_("The address you registered with."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def clean_email(self):
        return self.cleaned_data["email"].strip()
