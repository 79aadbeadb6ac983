from django import template

from ..forms import FollowForm

register = template.Library()


@register.inclusion_tag("followers/_follow_form.html", takes_context=True)
def follow_form(context, series):
    """The "Follow this series" box: email only (the page's CSRF token comes with the context)."""
    return {"series": series, "follow_form": context.get("follow_form") or FollowForm()}
