from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# The talk page also has the registration form, with its own "email" field.
FOLLOW_PREFIX = "follow"


class FollowForm(forms.Form):
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        help_text=_("We email you a link to confirm. Nothing else is sent until you do."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix=FOLLOW_PREFIX, **kwargs)

    def clean_email(self):
        return self.cleaned_data["email"].strip()


class ChoicesForm(forms.Form):
    wants_announcements = forms.BooleanField(
        label=_("An email when a new talk is announced"), required=False, initial=True
    )
    wants_digest = forms.BooleanField(
        label=_("A weekly digest of the coming week's talks"), required=False, initial=True
    )

    def __init__(self, *args, series, **kwargs):
        super().__init__(*args, **kwargs)
        if not series.has_digest:
            # No digest is scheduled for this series: nobody is offered one that never comes.
            del self.fields["wants_digest"]

    def clean(self):
        cleaned = super().clean()
        if "wants_digest" not in self.fields:
            cleaned["wants_digest"] = False
            if not cleaned.get("wants_announcements"):
                raise ValidationError(_("Tick the announcements to follow this series."), code="nothing_chosen")
        elif not (cleaned.get("wants_announcements") or cleaned.get("wants_digest")):
            raise ValidationError(_("Choose announcements, the weekly digest, or both."), code="nothing_chosen")
        return cleaned


class ManageLinkForm(forms.Form):
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        help_text=_("The address you follow with."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def clean_email(self):
        return self.cleaned_data["email"].strip()
