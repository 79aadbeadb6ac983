"""The dashboard's part of followers: how many follow each series (never who)."""

from django.utils.translation import gettext_lazy as _

from dashboard import registry
from events.models import Series

from .models import follower_counts


def counts(request, series) -> dict:
    """Per series: following, by what they get, and not confirmed yet (one query)."""
    found = follower_counts(Series.objects.filter(pk__in=[item.pk for item in series]).order_by())
    return {item.pk: {"series": item} for item in found}


def register() -> None:
    registry.register_panel(
        "followers.counts",
        label=_("Followers"),
        template_name="dashboard/panels/followers.html",
        load=counts,
        order=50,
    )
