"""Forms of talks: the admin's talk form, cancelling a talk, and the archive's search and filters."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.text import normalize_newlines
from django.utils.translation import gettext_lazy as _

from seminar_site import clock

from .models import Event, Series
from .search import MAX_QUERY

NOTE_TOO_LONG = _("The message can be at most %(limit_value)d characters long (this one has %(show_value)d).")


class NoteField(forms.CharField):
    """Several lines of text, each line break counted and stored as one character (browsers send two)."""

    widget = forms.Textarea

    def to_python(self, value):
        return normalize_newlines(super().to_python(value))


class EventAdminForm(forms.ModelForm):
    """The admin's talk form. A talk is cancelled on its own page ("Cancel this talk…"), which asks first and
    lets the organizer say why: the status offers Cancelled only to a talk that is cancelled already."""

    class Meta:
        # The model and the fields come from the admin (EventAdmin.fieldsets).
        field_classes = {"cancellation_note": NoteField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._name_the_zone()
        status = self.fields.get("status")
        if status is None or self.instance.status == Event.Status.CANCELLED:
            return
        status.choices = [choice for choice in status.choices if choice[0] != Event.Status.CANCELLED]
        if self.instance.status == Event.Status.PUBLISHED and not self.instance.is_past():
            status.help_text = _(
                "To cancel the talk, use “Cancel this talk…” at the top of this page: it asks first, and lets you "
                "tell the registrants why."
            )

    def _name_the_zone(self) -> None:
        """Says by each time which zone it is read in: the site's (the admin activates no other), not the venue's."""
        zone = timezone.get_current_timezone()
        for name in ("start", "end", "registration_opens", "registration_closes"):
            field = self.fields.get(name)
            if field is None:
                continue
            # The abbreviation of the time shown (CDT for a talk in July), else of the talk's start, else of today.
            shown = (getattr(self.instance, name, None), self.initial.get(name), self.instance.start)
            shown = [moment for moment in shown if isinstance(moment, datetime.datetime) and timezone.is_aware(moment)]
            moment = shown[0] if shown else timezone.now()
            zone_text = _("In %(zone)s (%(abbreviation)s), the site's time zone.") % {
                "zone": zone.key,
                "abbreviation": clock.zone_name(moment.astimezone(zone)),
            }
            field.help_text = " ".join(str(text) for text in (field.help_text, zone_text) if text)


class CancelEventForm(forms.Form):
    """What the organizer may add when cancelling a talk (events.services.cancel_event)."""

    note = NoteField(
        label=_("Why, and what happens instead"),
        required=False,
        max_length=Event._meta.get_field("cancellation_note").max_length,
        widget=forms.Textarea(
            attrs={"rows": 5, "cols": 60, "placeholder": _("The speaker is ill; we will reschedule in spring.")}
        ),
        help_text=_(
            "Optional. It goes into the email, onto the talk's page and into its public calendar and feeds as you "
            "write it."
        ),
        error_messages={"max_length": NOTE_TOO_LONG},
    )


class ArchiveForm(forms.Form):
    """What the past talks page is narrowed by: words, a series, a year. Each is optional."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=MAX_QUERY,
        help_text=_("Words of the title or abstract, or a speaker's name."),
    )
    series = forms.ChoiceField(label=_("Series"), required=False)
    year = forms.TypedChoiceField(label=_("Year"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, talks, **kwargs):
        """`talks`: the past talks the page may show, which give the series and years to choose from."""
        super().__init__(*args, **kwargs)
        series_ids = talks.order_by().values("series_id")
        self.fields["series"].choices = [
            ("", _("All series")),
            *Series.objects.filter(pk__in=series_ids).order_by("name").values_list("slug", "name"),
        ]
        years = sorted({moment.year for moment in talks.order_by().datetimes("start", "year")}, reverse=True)
        self.fields["year"].choices = [("", _("All years")), *((year, str(year)) for year in years)]

    def clean_q(self):
        return " ".join(self.cleaned_data["q"].split())

    @property
    def filters(self) -> dict:
        """The valid, non-empty choices (a value that is not one of the choices is left out)."""
        if not self.is_bound:
            return {}
        self.is_valid()  # cleaned_data keeps the fields that are valid
        return {name: value for name, value in self.cleaned_data.items() if value}

    def narrow(self, talks):
        """`talks` narrowed by `filters`; a search orders them by relevance where the database ranks them."""
        filters = self.filters
        if "series" in filters:
            talks = talks.filter(series__slug=filters["series"])
        if "year" in filters:
            talks = talks.in_year(filters["year"])
        if "q" in filters:
            talks = talks.search(filters["q"])
            if "search_rank" in talks.query.annotations:
                talks = talks.order_by("-search_rank", "-start", "-pk")
        return talks
