"""The archive's search and filters (the past talks page)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Series
from .search import MAX_QUERY


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
