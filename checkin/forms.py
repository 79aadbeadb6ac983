from django import forms
from django.utils.translation import gettext_lazy as _

from registrations.forms import RegistrationForm, SingleLineField
from registrations.models import Registration


class WalkInForm(forms.Form):
    """Someone at the door who is not registered: registered and checked in in one step."""

    name = SingleLineField(label=_("Name"), max_length=200)
    email = forms.EmailField(label=_("Email"), max_length=254)
    affiliation = SingleLineField(label=_("Affiliation"), max_length=200, required=False)
    position = forms.ChoiceField(
        label=_("Position"), choices=[("", _("Not given")), *Registration.Position.choices], required=False
    )
    over_capacity = forms.BooleanField(
        label=_("Over capacity: let this person in even though the talk is full"),
        required=False,
        help_text=_("Recorded in their history, with your name."),
    )

    clean_name = RegistrationForm.clean_name
    clean_email = RegistrationForm.clean_email
