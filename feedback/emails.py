"""The feedback email as the outbox sends it: one per attendee, a few hours after the talk."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import OuterRef, Q
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from events.when import talk_when
from outbox.compose import compose, mailbox
from outbox.models import OutgoingMail
from registrations.models import Registration
from seminar_site.i18n import in_language

from .models import Rating, answer_path

REQUEST = "feedback.request"
# With the kind and the registration: the request goes to each attendee once, ever.
REQUEST_ONCE_KEY = "request"


def requests_sent():
    """For Exists(): the feedback request of the registration in OuterRef("pk")."""
    return OutgoingMail.objects.filter(
        about_type=ContentType.objects.get_for_model(Registration),
        about_id=OuterRef("pk"),
        kind=REQUEST,
        once_key=REQUEST_ONCE_KEY,
    )


def build_request(mail):
    registration = Registration.objects.select_related("event__series", "event__venue").get(pk=mail.about_id)
    event = registration.event
    answer_url = settings.SITE_URL + answer_path(registration)
    with in_language(registration.language):
        context = {
            "registration": registration,
            "event": event,
            "series": event.series,
            "when": talk_when(event),
            "answer_url": answer_url,
            # One link per rating: the page opens with it chosen, and records nothing until it is sent.
            "ratings": [(label, f"{answer_url}?rating={value}") for value, label in Rating.choices],
            "event_url": settings.SITE_URL + event.get_absolute_url(),
            "site_url": settings.SITE_URL,
        }
        return compose(
            to=[mailbox(registration.name, registration.email)],
            reply_to=[mailbox(event.series.organizer_name, event.series.organizer_email)],
            subject=_("How was “%(title)s”?") % {"title": event.title},
            text=render_to_string("feedback/emails/request.txt", context),
            html=render_to_string("feedback/emails/request.html", context),
        )


def still_wanted(mail) -> str:
    from .services import FeedbackError, check_may_answer

    registration = Registration.objects.select_related("event__series").filter(pk=mail.about_id).first()
    if registration is None or registration.erased_at is not None:
        return str(_("The registrant's personal data was erased before this message went out."))
    try:
        check_may_answer(registration=registration)
    except FeedbackError as error:
        return error.message
    return ""


def staff_scope(user, roles) -> Q:
    """The feedback requests sent to the registrants of the user's series."""
    return Q(
        kind=REQUEST,
        about_type=ContentType.objects.get_for_model(Registration),
        about_id__in=Registration.objects.managed_by(user, roles=roles).values("pk"),
    )
