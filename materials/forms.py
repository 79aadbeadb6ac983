"""Adding a material (the organizers' admin form, the speaker's form) and choosing who hears it is up."""

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from events.models import Event
from events.when import SHORT, talk_when
from seminar_site.forms import WebAddressField

from .models import Announcement, Audience, Kind, Material, Visibility
from .pdf import MEDIA_TYPE, check_pdf

TITLE_MAX = Material._meta.get_field("title").max_length
URL_MAX = Material._meta.get_field("url").max_length


def _file_help() -> str:
    return _("A PDF of at most %(size)s. We check it before keeping it; scripts and attached files are refused.") % {
        "size": filesizeformat(settings.MATERIALS_MAX_BYTES)
    }


def _pdf_input():
    return forms.ClearableFileInput(attrs={"accept": MEDIA_TYPE})


class MaterialAdminForm(forms.ModelForm):
    """The organizers' form: a link or a PDF, checked by content before it is stored."""

    class Meta:
        model = Material
        fields = ["event", "kind", "title", "visibility", "url", "file"]
        widgets = {"file": _pdf_input()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _file_help()
        if "event" in self.fields:
            self.fields["event"].queryset = Event.objects.order_by("-start", "pk")
            self.fields["event"].label_from_instance = lambda event: f"{event.title} ({talk_when(event, style=SHORT)})"
        self.checked = None

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if isinstance(upload, UploadedFile):  # a new file; the one kept before was checked when it came
            self.checked = check_pdf(upload)
        return upload

    def save(self, commit=True):
        if self.checked is not None:
            upload = self.cleaned_data["file"]
            self.instance.filename = upload.name.rsplit("/", 1)[-1][:200]
            self.instance.size, self.instance.sha256 = self.checked.size, self.checked.sha256
        elif not self.cleaned_data.get("file"):
            self.instance.filename, self.instance.size, self.instance.sha256 = "", None, ""
        return super().save(commit)


class SpeakerMaterialForm(forms.Form):
    """What a speaker may add through their link: slides (or a paper, code...) as a PDF or a link."""

    kind = forms.ChoiceField(label=_("What is it?"), choices=Kind.choices, initial=Kind.SLIDES)
    title = forms.CharField(
        label=_("Title"),
        max_length=TITLE_MAX,
        required=False,
        help_text=_("As listed on the talk's page; empty: the kind, e.g. “Slides”."),
    )
    file = forms.FileField(label=_("PDF file"), required=False, widget=_pdf_input())
    url = WebAddressField(
        label=_("Or a link"),
        max_length=URL_MAX,
        required=False,
        assume_scheme="https",
        help_text=_("e.g. your slides on another site, or a video of the talk."),
    )
    visibility = forms.ChoiceField(
        label=_("Who may see it"),
        choices=[
            (Visibility.PUBLIC, _("Everyone")),
            (Visibility.REGISTRANTS, _("Only people registered for the talk")),
        ],
        initial=Visibility.PUBLIC,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _file_help()

    def clean_title(self):
        return " ".join(self.cleaned_data["title"].split())

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload:
            check_pdf(upload)
        return upload

    def clean(self):
        cleaned = super().clean()
        has_file, has_url = bool(cleaned.get("file")), bool(cleaned.get("url"))
        if "file" in self.errors or "url" in self.errors:
            return cleaned
        if has_file == has_url:
            raise forms.ValidationError(_("Upload a PDF or give a link (one of them)."), code="link_or_file")
        if has_file and cleaned.get("kind") == Kind.RECORDING:
            self.add_error("kind", _("A recording is a link to where it plays: give its link instead of a file."))
        return cleaned


class AnnouncementForm(forms.ModelForm):
    audience = forms.MultipleChoiceField(
        label=_("To"),
        choices=Audience.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[Audience.ATTENDED, Audience.ATTENDED_ONLINE],
        help_text=_("Each person gets it once. Cancelled and erased registrations never get it."),
    )
    event = forms.ModelChoiceField(label=_("Talk"), queryset=Event.objects.order_by("-start", "pk"))

    class Meta:
        model = Announcement
        fields = ["event", "audience", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "event" in self.fields:  # absent once sent: then every field is read-only
            # Materials are announced after the talk: only talks that have ended are offered.
            self.fields["event"].queryset = self.fields["event"].queryset.past()
            self.fields["event"].label_from_instance = lambda event: f"{event.title} ({talk_when(event, style=SHORT)})"
