"""The sign-in and team log: one row per sign-in, failure, invitation and team change.

Addresses are kept as the logs keep them: an email address typed as a
username is masked (seminar_site.logs.redact), and a client address is cut to
its network (IPv4 /24, IPv6 /48): enough to tell a campus from a botnet,
not enough to find one person's machine. Every entry is also a log line.
"""

import contextvars
import datetime
import ipaddress
import logging

from seminar_site.limits import client_ip
from seminar_site.logs import redact

from .models import AuditEntry

logger = logging.getLogger("staff.audit")

Kind = AuditEntry.Kind

# Who is acting in this request (set by staff.middleware), for changes made
# where only the changed object is known (a team member deleted in the admin).
_actor = contextvars.ContextVar("staff_actor", default=None)


def set_actor(user):
    """Name `user` (possibly lazy: read only when a change is logged) as the actor from now on."""
    return _actor.set(user)


def reset_actor(token) -> None:
    _actor.reset(token)


def current_actor():
    user = _actor.get()
    return user if user is not None and user.is_authenticated else None


def mask_address(address: str) -> str:
    """ "203.0.113.7" → "203.0.113.0/24"; IPv6 to its /48; anything else → ""."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def mask_username(username: str) -> str:
    return redact(" ".join((username or "").split()))[:150]


def record(
    kind: str,
    *,
    request=None,
    user=None,
    actor=None,
    username: str = "",
    series=None,
    method: str = "",
    detail: str = "",
) -> AuditEntry:
    """Write one log entry (and its log line). `actor` defaults to the request's user, else whoever acts now."""
    if actor is None:
        request_user = getattr(request, "user", None)
        actor = request_user if request_user is not None and request_user.is_authenticated else current_actor()
    if user is not None and not username:
        username = user.get_username()
    entry = AuditEntry.objects.create(
        kind=kind,
        user=user if user is not None and user.pk else None,
        actor=actor if actor is not None and actor != user else None,
        username=mask_username(username),
        series=series,
        address=mask_address(client_ip(request)) if request is not None else "",
        method=method[:100],
        detail=" ".join(str(detail).split())[:300],
    )
    logger.info(
        "%s user=%s actor=%s from=%s method=%s %s",
        kind,
        entry.username or "-",
        actor.get_username() if entry.actor else "-",
        entry.address or "-",
        entry.method or "-",
        entry.detail,
    )
    return entry


def erase_entries_before(*, cutoff: datetime.datetime, batch_size: int = 1000) -> int:
    """Delete the log entries written before `cutoff` (SIGN_IN_LOG_RETENTION_DAYS, by `erase_old_sign_in_log`).

    Deleted in batches, each its own transaction: a long run never holds many rows locked, and entries
    written meanwhile are newer than `cutoff` anyway. Returns how many were deleted. Raises nothing of its own.
    """
    erased = 0
    while True:
        pks = list(AuditEntry.objects.written_before(cutoff).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not pks:
            return erased
        erased += AuditEntry.objects.filter(pk__in=pks).delete()[0]
