"""A talk's materials (slides, recordings, papers, code) as the talk's public record shows them.

`events` keeps no materials: the app that does (`materials`) registers itself
here as the source, and every page, feed and listing that shows a talk asks
through this module (the talk page, the archive, JSON-LD, the Atom feeds and
JSON listings, the followers' digest). Without a source, talks have none.

    from events import materials

    found = materials.of_events(events, user=request.user)   # {event id: [TalkMaterial, ...]}
    materials.added_between(series_id=..., start=..., end=..., kinds=[materials.RECORDING])
"""

import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# The kinds every source speaks of, so pages can pick out the recording or the slides.
SLIDES, RECORDING, PAPER, CODE, OTHER = "slides", "recording", "paper", "code", "other"
# Who may see a material.
PUBLIC, REGISTRANTS, STAFF = "public", "registrants", "staff"


@dataclass(frozen=True)
class TalkMaterial:
    """One material of one talk, as a page shows it: what it is, where it is, who may see it."""

    event_id: int
    kind: str
    kind_label: str
    title: str
    url: str  # absolute
    visibility: str
    visibility_label: str
    added_at: datetime.datetime
    media_type: str = ""  # "application/pdf" for an uploaded file; "" for a link to another site
    size: int | None = None  # bytes, for an uploaded file
    path: str = ""  # an uploaded file's address on this site, for its pages (url is for other sites)

    @property
    def is_file(self) -> bool:
        return bool(self.media_type)

    @property
    def details(self) -> str:
        """What a list says after the title: the kind (unless the title says it) and, for a file, "PDF, 2.1 MB"."""
        says_kind = re.search(rf"\b{re.escape(str(self.kind_label))}\b", self.title, re.IGNORECASE)
        parts = [] if says_kind else [str(self.kind_label)]
        if self.is_file:
            parts.append(_("PDF, %(size)s") % {"size": filesizeformat(self.size or 0)})
        return ", ".join(parts)

    @property
    def href(self) -> str:
        """Where a page of this site links to: the path of one of its files, else the link itself."""
        return self.path or self.url

    @property
    def is_public(self) -> bool:
        return self.visibility == PUBLIC


class Source(Protocol):
    def of_events(self, event_ids: Sequence[int], *, user=None) -> dict[int, list[TalkMaterial]]:
        """The materials of these talks that `user` may see (None: anyone, so public ones only)."""

    def added_between(
        self, *, series_id: int, start: datetime.datetime, end: datetime.datetime, kinds: Sequence[str]
    ) -> list[TalkMaterial]:
        """Public materials of `kinds` first shown on the public talks of a series in [start, end)."""


_sources: dict[str, Source] = {}


def register_source(source: Source, *, name: str) -> None:
    """Called from an app's `AppConfig.ready()`; registering the same name again replaces it."""
    _sources[name] = source


def of_events(events: Iterable, *, user=None) -> dict[int, list[TalkMaterial]]:
    """{event id: the materials `user` may see}, for every event given (an empty list for none).

    One query per source, whatever the number of talks.
    """
    ids = [event.pk for event in events]
    found: dict[int, list[TalkMaterial]] = {pk: [] for pk in ids}
    if not ids:
        return found
    for source in _sources.values():
        for event_id, items in source.of_events(ids, user=user).items():
            found.setdefault(event_id, []).extend(items)
    return found


def attach(events: Iterable, *, user=None) -> list:
    """`events` as a list, each with `.material_list` set (for templates and feeds)."""
    events = list(events)
    found = of_events(events, user=user)
    for event in events:
        event.material_list = found.get(event.pk, [])
    return events


def added_between(
    *, series_id: int, start: datetime.datetime, end: datetime.datetime, kinds: Sequence[str] = (RECORDING,)
) -> list[TalkMaterial]:
    """Public materials of `kinds` that appeared on a series' talks in [start, end), oldest first."""
    found = [
        item
        for source in _sources.values()
        for item in source.added_between(series_id=series_id, start=start, end=end, kinds=kinds)
    ]
    return sorted(found, key=lambda item: item.added_at)


def recordings(items: Iterable[TalkMaterial]) -> list[TalkMaterial]:
    """The public recordings among `items`."""
    return [item for item in items if item.kind == RECORDING and item.is_public]
