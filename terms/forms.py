from django import forms
from django.utils.translation import gettext_lazy as _

from .reading import FORMATS


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("The term's file"),
        help_text=_("CSV (UTF-8), XLSX, or a calendar (.ics); at most 2 MB and 500 talks."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.ics,text/csv,text/calendar"}),
    )
    create_missing = forms.BooleanField(
        label=_("Create speakers and rooms not found"),
        required=False,
        help_text=_("Unticked, a speaker or room the site does not know yet is an error to fix first."),
    )


class ExportForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    format = forms.ChoiceField(
        label=_("Format"), choices=[(kind, label) for kind, label in FORMATS.items() if kind != "ics"]
    )

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise forms.ValidationError(_("The end date comes before the start date."), code="end_before_start")
        return data
