"""The followers' messages as the outbox sends them: the confirmation, announcements, digests, and
the link to change what a follower gets.

Announcements and digests are bulk mail: each carries `List-Unsubscribe` with
an HTTPS URL and `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058;
Gmail and Yahoo require both from bulk senders), and a visible unsubscribe
link. A mail client's one-click unsubscribe POSTs to that URL with no cookie.
Beside it, a link to change what they get (announcements, the digest), with a
token of its own that can do nothing else.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from events import materials
from events.models import Event
from events.schedule import shift_local
from events.when import talk_when
from outbox.compose import compose
from seminar_site.i18n import in_language

from .models import Dispatch, Follower

CONFIRM = "followers.confirm"
ANNOUNCEMENT = "followers.announcement"
DIGEST = "followers.digest"
MANAGE_LINK = "followers.manage_link"
BULK_KINDS = (ANNOUNCEMENT, DIGEST)
KIND_OF_DISPATCH = {Dispatch.Kind.ANNOUNCEMENT: ANNOUNCEMENT, Dispatch.Kind.DIGEST: DIGEST}


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def unsubscribe_headers(follower: Follower) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe (and RFC 2369's List-Unsubscribe) for one follower."""
    return {
        "List-Unsubscribe": f"<{absolute(follower.unsubscribe_path)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _render(name: str, context: dict) -> tuple[str, str]:
    return (
        render_to_string(f"followers/emails/{name}.txt", context),
        render_to_string(f"followers/emails/{name}.html", context),
    )


def _talk(event: Event) -> dict:
    return {
        "event": event,
        "speakers": [str(speaker) for speaker in event.speakers.all()],
        "when": talk_when(event),
        "event_url": absolute(event.get_absolute_url()),
    }


def digest_talks(dispatch: Dispatch):
    """The public talks of the seven days from the digest's due time (on the series' wall clock)."""
    zone = dispatch.series.local_time_zone
    week_end = shift_local(dispatch.due_at, days=7, zone=zone)
    return (
        Event.objects.filter(series=dispatch.series, status=Event.Status.PUBLISHED)
        .filter(start__gte=dispatch.due_at, start__lt=week_end)
        .with_related()
        .order_by("start", "pk")
    )


def digest_recordings(dispatch: Dispatch) -> list[dict]:
    """The recordings of the series' talks that became public in the seven days before the digest was due."""
    zone = dispatch.series.local_time_zone
    week_start = shift_local(dispatch.due_at, days=-7, zone=zone)
    found = materials.added_between(
        series_id=dispatch.series_id, start=week_start, end=dispatch.due_at, kinds=[materials.RECORDING]
    )
    talks = Event.objects.published().in_bulk([item.event_id for item in found])
    return [{"recording": item, "event": talks[item.event_id]} for item in found if item.event_id in talks]


def digest_has_news(dispatch: Dispatch) -> bool:
    """A digest goes out only with something in it: a talk in the coming week, or a new recording."""
    return digest_talks(dispatch).exists() or bool(digest_recordings(dispatch))


def _base_context(follower: Follower) -> dict:
    series = follower.series
    return {
        "series": series,
        "series_url": absolute(series.get_absolute_url()),
        "site_url": settings.SITE_URL,
        "unsubscribe_url": absolute(follower.unsubscribe_path),
        "manage_url": absolute(follower.manage_path),
    }


def build_confirmation(mail):
    follower = mail.about
    with in_language(follower.language):
        context = _base_context(follower) | {"confirm_url": absolute(follower.confirm_path)}
        text, html = _render("confirm", context)
        return compose(
            to=[follower.email],
            subject=_("Confirm that you want to follow %(series)s") % {"series": follower.series.name},
            text=text,
            html=html,
        )


def build_announcement(mail):
    follower = mail.about
    dispatch = Dispatch.objects.select_related("series", "event__venue").get(pk=mail.data["dispatch"])
    with in_language(follower.language):
        context = _base_context(follower) | {"talk": _talk(dispatch.event)}
        text, html = _render("announcement", context)
        return compose(
            to=[follower.email],
            subject=_("New talk: %(title)s") % {"title": dispatch.event.title},
            text=text,
            html=html,
            headers=unsubscribe_headers(follower),
        )


def build_digest(mail):
    follower = mail.about
    dispatch = Dispatch.objects.select_related("series__default_venue").get(pk=mail.data["dispatch"])
    with in_language(follower.language):
        talks = [_talk(event) for event in digest_talks(dispatch)]
        recordings = [
            {**_talk(found["event"]), "recording": found["recording"]} for found in digest_recordings(dispatch)
        ]
        context = _base_context(follower) | {"talks": talks, "recordings": recordings}
        text, html = _render("digest", context)
        subject = _("%(series)s: talks this week") if talks else _("%(series)s: new recordings")
        return compose(
            to=[follower.email],
            subject=subject % {"series": dispatch.series.name},
            text=text,
            html=html,
            headers=unsubscribe_headers(follower),
        )


def build_manage_link(mail):
    follower = mail.about
    with in_language(follower.language):
        text, html = _render("manage_link", _base_context(follower))
        return compose(
            to=[follower.email],
            subject=_("Change what you get from %(series)s") % {"series": follower.series.name},
            text=text,
            html=html,
        )


def still_wanted_confirmation(mail) -> str:
    follower = mail.about
    if follower is None or not follower.is_current:
        return str(_("The address stopped following before the confirmation went out."))
    if follower.confirmed_at is not None:
        return str(_("The address was confirmed already."))
    return ""


def still_wanted_manage_link(mail) -> str:
    follower = mail.about
    if follower is None or not follower.is_current:
        return str(_("The address stopped following before the link went out."))
    return ""


def still_wanted_bulk(mail) -> str:
    follower = mail.about
    if follower is None or not follower.is_current:
        return str(_("The follower unsubscribed before this message went out."))
    if follower.confirmed_at is None:
        return str(_("The address was never confirmed."))
    dispatch = Dispatch.objects.select_related("event").filter(pk=mail.data.get("dispatch")).first()
    if dispatch is None:
        return str(_("The talk or digest was deleted before this message went out."))
    if not follower.wants(dispatch.kind):
        return str(_("The follower no longer asks for this kind of message."))
    if dispatch.kind == Dispatch.Kind.ANNOUNCEMENT and dispatch.event.status != Event.Status.PUBLISHED:
        return str(_("The talk is no longer published."))
    if dispatch.kind == Dispatch.Kind.DIGEST and not digest_has_news(dispatch):
        return str(_("The digest has no talk and no new recording to list any more."))
    return ""
