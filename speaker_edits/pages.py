"""Pages of other apps that a speaker reaches with the same link (their slides, say), linked from theirs.

Apps call `link_speaker_page` from `AppConfig.ready`; speaker_edits knows nothing of them.
Each page takes the link's talk and token: `reverse(url_name, kwargs={"event_id": ..., "token": ...})`.
"""

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse


@dataclass(frozen=True)
class SpeakerPage:
    label: str
    url_name: str
    # What the page is for, for the email that sends the link ("" to list the label alone).
    offer: str = ""


_pages: list[SpeakerPage] = []


def link_speaker_page(label, url_name: str, *, offer="") -> None:
    if url_name not in [page.url_name for page in _pages]:
        _pages.append(SpeakerPage(label=label, url_name=url_name, offer=offer))


def _path(page: SpeakerPage, invitation) -> str:
    return reverse(page.url_name, kwargs={"event_id": invitation.event_id, "token": invitation.token})


def speaker_pages(invitation) -> list[tuple[str, str]]:
    """(label, path) of each linked page, for this invitation's link."""
    return [(page.label, _path(page, invitation)) for page in _pages]


def emailed_pages(invitation) -> list[dict]:
    """Each linked page's label, offer and full URL, for the email that sends this invitation's link."""
    return [
        {"label": page.label, "offer": page.offer, "url": settings.SITE_URL + _path(page, invitation)}
        for page in _pages
    ]
