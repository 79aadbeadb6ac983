"""Forgetting who registered, keeping what happened."""

from collections.abc import Iterable
from contextlib import suppress

from django.db import transaction
from django.db.models import CharField, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from outbox import services as outbox
from outbox.models import OutgoingMail

from ..mail import ERASED_REASON
from ..models import Answer, Registration, RegistrationLog, new_key
from ..signals import personal_data_erased
from .base import RegistrationError
from .seats import cancel_registration

ERASED_NAME = "Erased"


def erase_personal_data(*, registrations: QuerySet | Iterable[Registration], actor=None, note: str = "") -> int:
    """Remove who registered from `registrations`, keeping what happened; return how many were erased.

    Name becomes "Erased", the email a unique address under the reserved
    .invalid domain (nothing can be delivered there, and the one-address-per-talk
    constraint still holds), affiliation empty, answers to the talk's questions
    deleted; the self-service link stops working. Status, times and position stay: position is one of six coarse
    categories, which identifies nobody, and keeps the audience statistics of
    past talks true. Provider error texts that may quote the address are
    cleared from the history and the outbox. Messages still pending for these
    registrations are marked skipped in the same transaction (the outbox also
    refuses to send anything to an erased registration later).

    Precondition: none about timing. The retention command passes only
    registrations of talks that have ended. An organizer erasing on request
    may pass any registration: one still active (confirmed or waiting) for a
    talk that has not ended is first cancelled through `cancel_registration`,
    so its seat goes to the next in line, rather than refused: the person asked
    to be forgotten, and a refusal would only make the organizer do the same
    two steps by hand. They get no cancellation email (their address is gone
    by the time it would be sent); whoever handles the request answers them.

    Idempotent: an erased registration is left alone and logs nothing.
    Raises nothing of its own; database errors roll the erasure back.
    """
    now = timezone.now()
    if isinstance(registrations, QuerySet):
        pks = list(registrations.values_list("pk", flat=True))
    else:
        pks = [registration.pk for registration in registrations]
    with transaction.atomic():
        ids = list(Registration.objects.filter(pk__in=pks, erased_at__isnull=True).values_list("pk", flat=True))
        if not ids:
            return 0
        # The outbox worker locks a message before its registration; skipping
        # the pending messages first takes the locks in that same order.
        _skip_pending_mail(ids)
        for registration in (
            Registration.objects.filter(pk__in=ids, event__end__gt=now).active().order_by("event_id", "pk")
        ):
            with suppress(RegistrationError):  # cancelled or over meanwhile: it holds no seat
                cancel_registration(registration=registration, actor=actor, note=_("Cancelled to erase personal data."))
        erased = list(
            Registration.objects.select_for_update()
            .filter(pk__in=ids, erased_at__isnull=True)
            .order_by("pk")
            .only("pk", "status")
        )
        ids = [registration.pk for registration in erased]
        pk_text = Cast("pk", output_field=CharField())
        # Answers may say anything about a person (health, diet, ...): they go entirely.
        Answer.objects.filter(registration_id__in=ids).delete()
        Registration.objects.filter(pk__in=ids).update(
            name=ERASED_NAME,
            search_key="",
            email=Concat(Value("erased-"), pk_text, Value("@erased.invalid")),
            affiliation="",
            # Old self-service links stop working; the signature keeps keys unguessable.
            key=Concat(Value(f"erased-{new_key()[:20]}-"), pk_text),
            erased_at=now,
        )
        # The cancellation messages just queued, and promotions among `ids`.
        _skip_pending_mail(ids)
        # The outbox keeps the address each message went to, and provider
        # and SMTP error texts often quote it.
        outbox.forget_recipients(mails=OutgoingMail.objects.about(Registration.objects.filter(pk__in=ids)))
        RegistrationLog.objects.filter(
            registration_id__in=ids,
            action__in=[RegistrationLog.Action.EMAIL_BOUNCED, RegistrationLog.Action.EMAIL_FAILED],
        ).exclude(note="").update(note="")
        # Other apps forget what they keep about these people (feedback comments).
        personal_data_erased.send(sender=Registration, registration_ids=ids)
        RegistrationLog.objects.bulk_create(
            RegistrationLog(
                registration_id=registration.pk,
                action=RegistrationLog.Action.ERASED,
                from_status=registration.status,
                to_status=registration.status,
                actor=actor,
                note=note[:500],
            )
            for registration in erased
        )
    return len(erased)


def _skip_pending_mail(registration_ids: list[int]) -> None:
    outbox.skip_pending(
        mails=OutgoingMail.objects.about(Registration.objects.filter(pk__in=registration_ids)), reason=ERASED_REASON
    )
