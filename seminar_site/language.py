"""The language switcher: a POST from the site's own pages, remembered in a cookie.

Every page carries the switcher, and most public pages carry no other form:
a CSRF token there would set a CSRF cookie on every visitor and make each
cached page personal (seminar_site/pagecache.py). So this one view is guarded
by the request's Origin header instead, which browsers send with every POST
and no other site can forge: a form posted from anywhere but the site's own
pages (or CSRF_TRUSTED_ORIGINS) is refused, exactly as a missing token would be.
"""

from django.conf import settings
from django.utils.translation import gettext as _
from django.views.csrf import csrf_failure
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.i18n import set_language


def same_origin(request) -> bool:
    """Did this request come from a page of this site (its Origin header names this host)?"""
    origin = request.headers.get("Origin", "")
    return origin == f"{request.scheme}://{request.get_host()}" or origin in settings.CSRF_TRUSTED_ORIGINS


@csrf_exempt  # protected by same_origin() instead (see the module's docstring)
@require_POST
def switch_language(request):
    """Remember the chosen language (a year, in a cookie), then back to the page (`next`) in it."""
    if not same_origin(request):
        return csrf_failure(request, reason=_("The language switch did not come from this site."))
    return set_language(request)
