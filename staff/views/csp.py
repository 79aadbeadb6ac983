from functools import wraps

from django.conf import settings
from django.utils.csp import CSP

from .. import providers


def allow_provider_forms(view):
    """Pages with "Sign in with …" buttons: their forms may lead on to the providers (CSP form-action)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        origins = providers.form_origins()
        if origins:
            response._csp_config = settings.SECURE_CSP | {
                "form-action": [*settings.SECURE_CSP.get("form-action", [CSP.SELF]), *origins]
            }
        return response

    return wrapped
