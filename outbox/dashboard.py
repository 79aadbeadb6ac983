"""The dashboard's part of the outbox: emails of the user's series that failed or bounced lately."""

import datetime

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dashboard import registry

from .models import OutgoingMail

RECENT = datetime.timedelta(days=30)
SHOWN = 5
_UNDELIVERED = Q(status=OutgoingMail.Status.FAILED) | Q(bounced_at__isnull=False)


def undelivered(request, series) -> dict:
    """Failed and bounced messages of the last RECENT the user may see (their series'), in two queries."""
    mails = OutgoingMail.objects.managed_by(request.user).filter(_UNDELIVERED, created_at__gte=timezone.now() - RECENT)
    totals = mails.aggregate(
        failed=Count("pk", filter=Q(status=OutgoingMail.Status.FAILED)),
        bounced=Count("pk", filter=Q(bounced_at__isnull=False)),
    )
    return {**totals, "latest": list(mails.order_by("-created_at", "-pk")[:SHOWN]), "days": RECENT.days}


def register() -> None:
    registry.register_panel(
        "outbox.undelivered",
        label=_("Emails that did not arrive"),
        template_name="dashboard/panels/undelivered.html",
        load=undelivered,
        order=5,
        per_series=False,
    )
