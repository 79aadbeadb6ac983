"""The page the feedback email links to: it shows the form and records nothing until the form is sent."""

from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from registrations.models import Registration
from registrations.views import link_invalid

from . import services
from .forms import FeedbackForm
from .models import ANSWER_LINK_SALT, Feedback, Rating, answer_path


def _private(response):
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


# Not someone who attended; not yet; everything else (the series stopped asking, a month passed): gone.
_REFUSAL_STATUS = {"not_attended": 403, "not_over": 409}


def _refused(request, event, error: services.FeedbackError):
    status = _REFUSAL_STATUS.get(error.code, 410)
    return _private(render(request, "feedback/closed.html", {"event": event, "error": error}, status=status))


def _registration(token) -> Registration | None:
    try:
        return Registration.objects.select_related("event__series", "event__venue").from_token(
            token, salt=ANSWER_LINK_SALT
        )
    except Registration.DoesNotExist:
        return None


@never_cache
@require_http_methods(["GET", "POST"])
def answer(request, token):
    """GET shows the form (a rating from the email's link preselected); POST records or replaces the answer."""
    registration = _registration(token)
    if registration is None:
        return _private(link_invalid(request))
    event = registration.event
    try:
        services.check_may_answer(registration=registration)
    except services.FeedbackError as error:
        return _refused(request, event, error)
    previous = Feedback.objects.filter(registration=registration).first()
    if request.method == "POST":
        form = FeedbackForm(request.POST)
        if form.is_valid():
            try:
                services.record_feedback(
                    registration=registration,
                    rating=form.cleaned_data["rating"],
                    comment=form.cleaned_data["comment"],
                )
            except services.FeedbackError as error:
                return _refused(request, event, error)
            return redirect(answer_path(registration) + "?saved=1")
    else:
        initial = {"rating": previous.rating, "comment": previous.comment} if previous else {}
        wanted = request.GET.get("rating", "")
        if wanted in {str(value) for value in Rating.values}:
            initial["rating"] = int(wanted)
        form = FeedbackForm(initial=initial)
    context = {
        "event": event,
        "form": form,
        "previous": previous,
        "saved": request.method == "GET" and request.GET.get("saved") == "1" and previous is not None,
    }
    return _private(render(request, "feedback/answer.html", context, status=400 if form.errors else 200))
