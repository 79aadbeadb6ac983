from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Feedback, Rating

COMMENT_MAX = Feedback._meta.get_field("comment").max_length


class FeedbackForm(forms.Form):
    """The rating and the comment; nothing else is read from the request."""

    rating = forms.TypedChoiceField(
        label=_("How was the talk?"),
        choices=Rating.choices,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a rating from 1 to 5.")},
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What worked, what could be better. The organizers read it without your name."),
    )

    def clean_comment(self):
        return self.cleaned_data["comment"].replace("\r\n", "\n").replace("\r", "\n").strip()
