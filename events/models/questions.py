"""The questions a talk's registration form asks."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .events import Event


class QuestionQuerySet(models.QuerySet):
    def copy_to(self, event: Event) -> list["Question"]:
        """Give `event` a copy of these questions (a duplicated talk asks the same)."""
        return Question.objects.bulk_create(
            Question(
                event=event,
                label=question.label,
                help_text=question.help_text,
                kind=question.kind,
                choices=question.choices,
                required=question.required,
                position=question.position,
            )
            for question in self.order_by("position", "pk")
        )


class Question(models.Model):
    """One more thing the registration form of a talk asks, e.g. "Dietary restrictions for lunch?"."""

    class Kind(models.TextChoices):
        SHORT_TEXT = "short_text", _("Short text")
        LONG_TEXT = "long_text", _("Long text")
        SINGLE_CHOICE = "single_choice", _("Single choice")
        MULTIPLE_CHOICE = "multiple_choice", _("Multiple choice")
        YES_NO = "yes_no", _("Yes or no")

    CHOICE_KINDS = (Kind.SINGLE_CHOICE, Kind.MULTIPLE_CHOICE)
    MAX_CHOICE_LENGTH = 200

    event = models.ForeignKey(Event, models.CASCADE, related_name="questions", verbose_name=_("talk"))
    label = models.CharField(_("question"), max_length=300)
    help_text = models.CharField(_("help text"), max_length=500, blank=True, help_text=_("Shown under the question."))
    kind = models.CharField(_("kind of answer"), max_length=20, choices=Kind, default=Kind.SHORT_TEXT)
    choices = models.TextField(
        _("choices"), blank=True, help_text=_("For single and multiple choice: one choice per line.")
    )
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveIntegerField(_("position"), default=0, help_text=_("Lower numbers come first."))

    objects = QuestionQuerySet.as_manager()

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["event", "position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["short_text", "long_text", "single_choice", "multiple_choice", "yes_no"]),
                name="question_kind_valid",
            ),
        ]

    def __str__(self):
        return self.label

    def get_absolute_url(self):
        return self.event.get_absolute_url() + "#register"

    def clean(self):
        lines = self.choice_list
        if self.kind in self.CHOICE_KINDS:
            if len(lines) < 2:
                raise ValidationError(
                    {"choices": _("Give at least two choices, one per line.")}, code="too_few_choices"
                )
            if any(len(line) > self.MAX_CHOICE_LENGTH for line in lines):
                raise ValidationError(
                    {"choices": _("Keep each choice under %(max)s characters.") % {"max": self.MAX_CHOICE_LENGTH}},
                    code="choice_too_long",
                )
            # Stored tidy: one choice per line, each once, in the organizer's order.
            self.choices = "\n".join(lines)
        elif lines:
            raise ValidationError(
                {"choices": _("Only single and multiple choice questions have choices.")}, code="choices_not_used"
            )

    @property
    def choice_list(self) -> list[str]:
        seen = []
        for line in self.choices.splitlines():
            line = " ".join(line.split())
            if line and line not in seen:
                seen.append(line)
        return seen
