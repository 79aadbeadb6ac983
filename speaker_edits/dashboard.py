"""The dashboard's part of speakers' edits: what they changed lately, and what waits for an organizer."""

import datetime
from collections import defaultdict

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dashboard import registry

from .fields import FIELD_LABELS
from .models import SpeakerEdit

# Edits this recent (of talks not over yet) are listed even once decided.
RECENT = datetime.timedelta(days=14)
EDITS_SHOWN = 5


def edits_to_review(request, series) -> dict:
    """Per series: edits waiting for the organizers' decision, and recent edits of coming talks (one query)."""
    now = timezone.now()
    edits = (
        SpeakerEdit.objects.filter(event__series__in=series)
        .filter(Q(invite_update=SpeakerEdit.InviteUpdate.PENDING) | Q(created_at__gte=now - RECENT, event__end__gt=now))
        .select_related("event", "speaker")
        .order_by("-created_at", "-pk")
    )
    grouped = defaultdict(list)
    for edit in edits:
        edit.pending = edit.invite_update == SpeakerEdit.InviteUpdate.PENDING
        edit.field_labels = ", ".join(str(FIELD_LABELS.get(name, name)) for name in edit.after)
        grouped[edit.event.series_id].append(edit)
    return {
        pk: {
            "edits": found[:EDITS_SHOWN],
            "more": len(found) - EDITS_SHOWN,
            "pending": sum(edit.pending for edit in found),
        }
        for pk, found in grouped.items()
    }


def register() -> None:
    registry.register_panel(
        "speaker_edits.to_review",
        label=_("Speakers' edits to review"),
        template_name="dashboard/panels/speaker_edits.html",
        load=edits_to_review,
        order=30,
    )
