"""The dashboard's content: the series the user works on, each with the panels and links of its apps."""

from dataclasses import dataclass, field

from events.models import Series, SeriesMember

from . import registry


@dataclass
class Section:
    series: Series
    role: str
    links: list = field(default_factory=list)
    panels: list = field(default_factory=list)  # (Panel, context)


def series_roles(user) -> list[Series]:
    """The series `user` works on, each with `.role` (superusers: every series, as organizers), in one query."""
    if user.is_superuser:
        series = list(Series.objects.all())
        for item in series:
            item.role = registry.ORGANIZER
        return series
    series = []
    for member in SeriesMember.objects.filter(user=user).select_related("series").order_by("series__name", "pk"):
        member.series.role = member.role
        series.append(member.series)
    return series


def dashboard_context(request) -> dict:
    """Sections per series and the site-wide panels, each panel loaded once for all series."""
    series = series_roles(request.user)
    sections = {item.pk: Section(item, item.role, registry.series_links(item, item.role)) for item in series}
    site_panels = []
    for panel in registry.panels():
        visible = [item for item in series if item.role in panel.roles]
        if not visible:
            continue
        loaded = panel.load(request, visible)
        if not panel.per_series:
            if loaded is not None:
                site_panels.append((panel, loaded))
            continue
        for pk, context in loaded.items():
            if pk in sections:
                sections[pk].panels.append((panel, context))
    return {
        "sections": list(sections.values()),
        "site_panels": site_panels,
    }
