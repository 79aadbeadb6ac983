from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from events.models import SeriesMember


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=SeriesMember.Role.choices, initial=SeriesMember.Role.DOOR)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=SeriesMember.Role.choices)


class NewAccountForm(forms.Form):
    """A password account for an invited person (while PASSWORD_LOGIN is on); the service checks the rest."""

    username = forms.CharField(
        label=_("Username"),
        max_length=get_user_model()._meta.get_field("username").max_length,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password1 = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("The same password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", forms.ValidationError(_("The two passwords differ."), code="mismatch"))
        return cleaned
