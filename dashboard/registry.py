"""What the organizers' home (the admin's index page) shows, contributed by each app.

The dashboard knows series and talks (`events`) and nothing else: every other
app adds its part from its AppConfig.ready(), the way apps register mail kinds
with the outbox:

    registry.register_panel(
        "registrations.coming_talks",
        label=_("Coming talks"),
        template_name="dashboard/panels/coming_talks.html",
        load=coming_talks,          # (request, series) -> {series pk: context}
        order=10,
        roles=CHECK_IN_ROLES,       # default: organizers only
    )
    registry.register_talk_link("checkin.door", label=_("Door"), url_name="checkin:event", roles=CHECK_IN_ROLES)
    registry.register_series_link("reports.numbers", label=_("Numbers"), url_name="reports:series")

A panel's `load` gets the request and the list of series the user works on in
one of the panel's roles (superusers: every series, as organizers), and must
answer in a constant number of queries however many series and talks there
are: one query for all the series, grouped in Python. A per-series panel
returns {series pk: context} (a series left out shows nothing of it); a
site-wide panel (`per_series=False`) returns one context, or None to hide.
The template gets that context as `panel`, and the series as `series`.

Links are URL names taking the talk's or the series' pk; a row shows those of
the user's role in the talk's series.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

# The series roles (events.SeriesMember.Role values); panels and links are for organizers unless told.
ORGANIZER = "organizer"
ORGANIZERS = (ORGANIZER,)


@dataclass(frozen=True)
class Panel:
    name: str
    label: str
    template_name: str
    load: Callable
    order: int
    roles: tuple[str, ...]
    per_series: bool


@dataclass(frozen=True)
class Link:
    name: str
    label: str
    url_name: str
    order: int
    roles: tuple[str, ...]
    applies: Callable | None = None
    query: str = ""

    def url(self, pk) -> str:
        if self.query:
            return reverse(self.url_name) + "?" + self.query.format(pk=pk)
        return reverse(self.url_name, args=[pk])


_panels: dict[str, Panel] = {}
_talk_links: dict[str, Link] = {}
_series_links: dict[str, Link] = {}


def register_panel(
    name: str, *, label, template_name: str, load: Callable, order: int = 100, roles=ORGANIZERS, per_series=True
) -> Panel:
    """Register (or replace) a panel of the dashboard; see the module's docstring."""
    panel = Panel(name, label, template_name, load, order, tuple(roles), per_series)
    _panels[name] = panel
    return panel


def register_talk_link(name: str, *, label, url_name: str, order: int = 100, roles=ORGANIZERS, applies=None) -> Link:
    """A button on each coming talk: `url_name` takes the talk's pk; `applies(event)` may leave a talk out."""
    link = Link(name, label, url_name, order, tuple(roles), applies=applies)
    _talk_links[name] = link
    return link


def register_series_link(name: str, *, label, url_name: str, order: int = 100, roles=ORGANIZERS, query="") -> Link:
    """A link in the heading of each series: `url_name` takes the series' pk, or with `query` ("series={pk}")
    takes no argument and the query string names the series."""
    link = Link(name, label, url_name, order, tuple(roles), query=query)
    _series_links[name] = link
    return link


def unregister(name: str) -> None:
    for registered in (_panels, _talk_links, _series_links):
        registered.pop(name, None)


def panels() -> list[Panel]:
    return sorted(_panels.values(), key=lambda panel: (panel.order, panel.name))


def _sorted(links) -> list[Link]:
    return sorted(links, key=lambda link: (link.order, link.name))


def talk_links(event, role: str) -> list[tuple[str, str]]:
    """(label, URL) of the buttons `role` gets on `event`, without a query."""
    return [
        (str(link.label), link.url(event.pk))
        for link in _sorted(_talk_links.values())
        if role in link.roles and (link.applies is None or link.applies(event))
    ]


def series_links(series, role: str) -> list[tuple[str, str]]:
    return [(str(link.label), link.url(series.pk)) for link in _sorted(_series_links.values()) if role in link.roles]
