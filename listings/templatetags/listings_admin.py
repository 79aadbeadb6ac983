"""The series admin's "put these talks on your site" box; listings owns it, the events admin knows nothing of it."""

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

register = template.Library()


@register.inclusion_tag("listings/admin_embed_code.html")
def embed_code(series):
    """The script and iframe snippets for `series`, ready to paste into another site."""
    context = {
        "series": series,
        "series_url": settings.SITE_URL + series.get_absolute_url(),
        # The unhashed name: a pasted snippet must survive the next deployment.
        "script_url": f"{settings.SITE_URL}/{settings.STATIC_URL.strip('/')}/listings/embed.js",
        "json_url": settings.SITE_URL + reverse("listings:series_talks_json", kwargs={"slug": series.slug}),
        "frame_url": settings.SITE_URL + reverse("listings:series_embed_frame", kwargs={"slug": series.slug}),
    }
    return {
        "site_url": settings.SITE_URL,
        "script": render_to_string("listings/embed_script.html", context).strip(),
        "frame": render_to_string("listings/embed_frame_code.html", context).strip(),
    }
