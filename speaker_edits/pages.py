"""Pages of other apps that a speaker reaches with the same link (their slides, say), linked from theirs.

Apps call `link_speaker_page` from `AppConfig.ready`; speaker_edits knows nothing of them.
Each page takes the link's talk and token: `reverse(url_name, kwargs={"event_id": ..., "token": ...})`.
"""

from django.urls import reverse

_pages: list[tuple[str, str]] = []


def link_speaker_page(label, url_name: str) -> None:
    if url_name not in [name for _label, name in _pages]:
        _pages.append((label, url_name))


def speaker_pages(invitation) -> list[tuple[str, str]]:
    """(label, path) of each linked page, for this invitation's link."""
    kwargs = {"event_id": invitation.event_id, "token": invitation.token}
    return [(label, reverse(url_name, kwargs=kwargs)) for label, url_name in _pages]
