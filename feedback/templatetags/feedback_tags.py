from django import template

from ..models import Feedback, answer_path
from ..services import FeedbackError, check_may_answer

register = template.Library()


@register.inclusion_tag("feedback/_registrant_feedback.html")
def registrant_feedback(registration):
    """On a registrant's own page after the talk: the link to rate it, while they may (and their answer so far)."""
    # Before the talk (nearly every visit of the page), without asking the database.
    if not registration.event.is_past() or registration.status != registration.Status.CONFIRMED:
        return {"may_answer": False}
    try:
        check_may_answer(registration=registration)
    except FeedbackError:
        return {"may_answer": False}
    return {
        "may_answer": True,
        "answer_url": answer_path(registration),
        "previous": Feedback.objects.filter(registration=registration).first(),
    }
