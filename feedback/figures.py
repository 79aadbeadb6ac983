"""Feedback on the numbers pages: the ratings and the comments, never who gave them (reports' registry)."""

from django.db.models import Avg, Count, Q
from django.utils.translation import gettext as _

from events.models import Event
from registrations.models import Registration
from reports.figures import Table

from .models import Feedback, Rating


def summary(event) -> dict:
    """How many attended, how many answered, the mean rating and the count of each rating, in two queries."""
    found = Feedback.objects.of_event(event).aggregate(
        answers=Count("pk"),
        average=Avg("rating"),
        comments=Count("pk", filter=~Q(comment="")),
        **{f"rating_{value}": Count("pk", filter=Q(rating=value)) for value in Rating.values},
    )
    found["attended"] = Registration.objects.filter(event=event).attended().count()
    return found


def _average(value) -> str:
    return f"{value:.1f}" if value is not None else "–"


def ratings(event, facts: dict) -> Table:
    table = Table("feedback-ratings", _("Feedback: ratings"), "", [_("Rating"), _("Answers")])
    table.rows = [[str(label), facts[f"rating_{value}"]] for value, label in reversed(Rating.choices)]
    if facts["answers"]:
        table.description = _(
            "%(answers)s of %(attended)s attendees answered; the mean rating is %(average)s of 5. %(parts)s."
        ) % {
            "answers": facts["answers"],
            "attended": facts["attended"],
            "average": _average(facts["average"]),
            "parts": ", ".join(f"{label}: {n}" for label, n in table.rows),
        }
    else:
        table.description = _("No answers yet (%(attended)s attendees asked).") % {"attended": facts["attended"]}
        table.rows = []
    return table


def comments(event, facts: dict) -> Table:
    table = Table("feedback-comments", _("Feedback: comments"), "", [_("Rating"), _("Comment")], kind="text")
    # Highest ratings first, then in the order of the text: nothing in the order tells who wrote what, or when.
    rows = Feedback.objects.of_event(event).exclude(comment="").order_by("-rating", "comment", "pk")
    table.rows = [[answer.rating, answer.comment] for answer in rows.only("rating", "comment")]
    table.description = (
        _("%(count)s comments, without names.") % {"count": len(table.rows)} if table.rows else _("No comments yet.")
    )
    return table


def event_tables(event) -> list[Table]:
    """A talk's feedback: once it is over, for series that ask for it (or that have answers from before)."""
    if not event.is_past():
        return []
    facts = summary(event)
    if not facts["answers"] and not event.series.ask_for_feedback:
        return []
    return [ratings(event, facts), comments(event, facts)]


def series_tables(series) -> list[Table]:
    """Per talk of a series: its answers and mean rating (talks without answers are left out)."""
    talks = (
        Event.objects.filter(series=series)
        .annotate(
            answers=Count("registrations__feedback"),
            average=Avg("registrations__feedback__rating"),
        )
        .filter(answers__gt=0)
        .select_related("venue")
        .order_by("start", "pk")
    )
    if not talks and not series.ask_for_feedback:
        return []
    table = Table(
        "feedback",
        _("Feedback per talk"),
        "",
        [_("Talk"), _("Mean rating (of 5)"), _("Answers"), _("Date")],
    )
    for talk in talks:
        table.rows.append([talk.title, round(talk.average, 2), talk.answers, talk.local_start.date().isoformat()])
    table.description = (
        "; ".join(
            _("%(talk)s: %(average)s of 5 from %(answers)s answers")
            % {"talk": row[0], "average": _average(row[1]), "answers": row[2]}
            for row in table.rows
        )
        if table.rows
        else _("No answers yet.")
    )
    return [table]
