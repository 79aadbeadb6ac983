"""The messages of a mailing as the outbox sends them: one per recipient, and the test copy."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from events.when import talk_when
from outbox.compose import compose, mailbox
from registrations.models import Registration
from seminar_site.i18n import in_language

from .models import Mailing

MESSAGE = "mailings.message"
TEST = "mailings.test"


def once_key(mailing: Mailing) -> str:
    """With the kind and the registration: one message per recipient per mailing, ever (a database constraint)."""
    return f"mailing:{mailing.pk}"


def render(mailing: Mailing, registration: Registration, *, own_link: bool = True) -> dict:
    """Subject, text and HTML of `mailing` as `registration` gets it (their name, their own link).

    Without `own_link` a placeholder stands for the link: the organizer's test copy may be forwarded,
    and the link would let anyone cancel that person's seat.
    """
    event = mailing.event
    context = {
        "mailing": mailing,
        "registration": registration,
        "event": event,
        "series": event.series,
        "when": talk_when(event),
        "event_url": settings.SITE_URL + event.get_absolute_url(),
        "own_link": own_link,
        "manage_url": registration.manage_url if own_link else _("(each recipient's own link)"),
        "site_url": settings.SITE_URL,
    }
    return {
        "subject": mailing.subject,
        "text": render_to_string("mailings/message.txt", context),
        "html": render_to_string("mailings/message.html", context),
    }


def _message(mailing: Mailing, registration: Registration, *, to: str, test: bool = False):
    # In the registrant's language (the organizer's own text stays as written).
    with in_language(registration.language):
        parts = render(mailing, registration, own_link=not test)
        prefix = _("[Test] ") if test else ""
    series = mailing.event.series
    return compose(
        to=[to],
        reply_to=[mailbox(series.organizer_name, series.organizer_email)],
        subject=prefix + parts["subject"],
        text=parts["text"],
        html=parts["html"],
    )


def build(mail):
    registration = mail.about
    mailing = Mailing.objects.select_related("event__series", "event__venue").get(pk=mail.data["mailing"])
    return _message(mailing, registration, to=mailbox(registration.name, registration.email))


def build_test(mail):
    """The copy an organizer sends to themselves: as one recipient sees it, marked as a test."""
    mailing = mail.about
    registration = Registration.objects.filter(pk=mail.data.get("as")).first() or Registration(
        event=mailing.event, name=_("Registrant's name"), email=mail.recipient, language=translation.get_language()
    )
    return _message(mailing, registration, to=mail.recipient, test=True)


def still_wanted(mail) -> str:
    registration = mail.about
    if registration is None or registration.erased_at is not None:
        return str(_("The registrant's personal data was erased before this message went out."))
    if registration.status == Registration.Status.CANCELLED:
        return str(_("The registration was cancelled before this message went out."))
    return ""


def staff_scope(user, roles) -> Q:
    """Messages of mailings about registrations of the user's series, and the tests of their mailings."""
    return Q(
        kind=MESSAGE,
        about_type=ContentType.objects.get_for_model(Registration),
        about_id__in=Registration.objects.managed_by(user, roles=roles).values("pk"),
    ) | Q(
        kind=TEST,
        about_type=ContentType.objects.get_for_model(Mailing),
        about_id__in=Mailing.objects.managed_by(user, roles=roles).values("pk"),
    )
