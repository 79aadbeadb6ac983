import datetime

from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events.models import Event, Speaker
from seminar_site.forms import WebAddressField

from . import images
from .fields import FIELDS

TITLE_MAX = Event._meta.get_field("title").max_length
ABSTRACT_MAX = 5000
BIO_MAX = 3000
AFFILIATION_MAX = Speaker._meta.get_field("affiliation").max_length
WEBSITE_MAX = Speaker._meta.get_field("website").max_length


def _one_line(value: str) -> str:
    # A title ends up in email subjects and calendar SUMMARY lines: no line breaks.
    return " ".join((value or "").split())


def _paragraphs(value: str) -> str:
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


class SpeakerForm(forms.Form):
    """What a speaker may change through their link; nothing else is read from the request."""

    title = forms.CharField(
        label=_("Title of the talk"), max_length=TITLE_MAX, error_messages={"required": _("Give the talk a title.")}
    )
    abstract = forms.CharField(
        label=_("Abstract"),
        max_length=ABSTRACT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Plain text; a blank line starts a new paragraph."),
    )
    affiliation = forms.CharField(
        label=_("Affiliation"),
        max_length=AFFILIATION_MAX,
        required=False,
        help_text=_("Shown after your name, e.g. “UT Austin”."),
    )
    website = WebAddressField(
        label=_("Website"),
        max_length=WEBSITE_MAX,
        required=False,
        assume_scheme="https",
        help_text=_("e.g. https://www.cs.utexas.edu/~you"),
    )
    bio = forms.CharField(
        label=_("Bio"),
        max_length=BIO_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("A few sentences about you, in the third person. Plain text."),
    )
    photo = forms.FileField(
        label=_("New photo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
    )
    remove_photo = forms.BooleanField(label=_("Show no uploaded photo"), required=False)

    def __init__(self, *args, base: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # The organizers' text may be longer than a speaker may write (the admin sets no limit): the
        # speaker can still save their other changes, and keep or shorten that text.
        for name in ("abstract", "bio"):
            field, current = self.fields[name], len((base or {}).get(name) or "")
            if current > field.max_length:
                field.max_length = current
                field.validators = [v for v in field.validators if not isinstance(v, MaxLengthValidator)]
                field.validators.append(MaxLengthValidator(current))
                field.widget.attrs["maxlength"] = str(current)
        self.fields["photo"].help_text = _(
            "JPEG, PNG, WebP or GIF, at most %(size)s. We make it at most %(side)s pixels wide and remove its "
            "hidden data (camera, place, time)."
        ) % {"size": filesizeformat(settings.SPEAKER_PHOTO_MAX_BYTES), "side": settings.SPEAKER_PHOTO_MAX_SIDE}
        self.processed_photo = None

    def clean_title(self):
        title = _one_line(self.cleaned_data["title"])
        if not title:
            raise forms.ValidationError(_("Give the talk a title."), code="required")
        return title

    def clean_abstract(self):
        return _paragraphs(self.cleaned_data["abstract"])

    def clean_bio(self):
        return _paragraphs(self.cleaned_data["bio"])

    def clean_affiliation(self):
        return _one_line(self.cleaned_data["affiliation"])

    def clean_photo(self):
        upload = self.cleaned_data.get("photo")
        if upload:
            self.processed_photo = images.process_photo(upload)
        return upload

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("remove_photo") and self.processed_photo is not None:
            self.add_error(
                "remove_photo", _("You uploaded a new photo and asked for none: untick this box or drop the photo.")
            )
        return cleaned

    def values(self, *, kept_photo: str) -> dict[str, str]:
        """The previewed values, as services.current_values() gives them.

        `kept_photo` is the photo's digest when none is uploaded or removed
        (the current one, or one uploaded before going back from the
        preview). A new photo is given by its digest: the caller stores
        `processed_photo` (services.store_photo).
        """
        values = {name: self.cleaned_data[name] for name in FIELDS if name != "photo"}
        if self.cleaned_data.get("remove_photo"):
            values["photo"] = ""
        elif self.processed_photo is not None:
            values["photo"] = self.processed_photo.digest
        else:
            values["photo"] = kept_photo
        return values


class InvitationForm(forms.Form):
    """The organizer's side: which speaker, to which address, until when."""

    speaker = forms.ModelChoiceField(label=_("Speaker"), queryset=Speaker.objects.none())
    email = forms.EmailField(label=_("Their email address"), max_length=254)
    expires_at = forms.DateTimeField(
        label=_("Link works until"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("In the site's time zone. Sending a new link to the same speaker stops the earlier one."),
    )

    def __init__(self, *args, event: Event, initial_deadline: datetime.datetime, **kwargs):
        super().__init__(*args, **kwargs)
        speakers = event.speakers.order_by("name")
        self.fields["speaker"].queryset = speakers
        if len(speakers) == 1:
            self.fields["speaker"].initial = speakers[0].pk
        self.fields["expires_at"].initial = timezone.localtime(initial_deadline).replace(second=0, microsecond=0)
