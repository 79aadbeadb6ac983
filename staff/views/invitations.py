"""An invitation's link: the invited person accepts with a provider, with the account they are signed in with,
or (while PASSWORD_LOGIN is on) with a new password account."""

from allauth.socialaccount.providers.base import AuthProcess
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from seminar_site.limits import by_ip, rate_limit

from .. import providers, services
from ..forms import NewAccountForm
from ..sessions import landing_url
from .csp import allow_provider_forms
from .signin import sign_in_with_password


def _private(response):
    # The address holds the link's token: never cached (never_cache) or indexed.
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _link_error(request, error: services.StaffError):
    status = 404 if error.code == "invalid" else 410
    return _private(render(request, "staff/invitation_error.html", {"error": error}, status=status))


def _page(request, invitation, token, *, form=None, error="", status=200):
    User = get_user_model()
    context = {
        "invitation": invitation,
        "token": token,
        "series": invitation.series,
        "providers": providers.configured(),
        "password_login": settings.PASSWORD_LOGIN,
        "has_account": User._default_manager.filter(email__iexact=invitation.email).exists(),
        "form": form or NewAccountForm(),
        "error": error,
        "sign_in_url": f"{reverse('admin:login')}?next={request.path}",
    }
    return _private(render(request, "staff/invitation.html", context, status=status))


@never_cache
@sensitive_post_parameters("password1", "password2")
@allow_provider_forms
@rate_limit("staff-invitation", rate="LOGIN_RATE_LIMIT", key=by_ip)
def invitation(request, token):
    """The invitation's page; its forms accept it as the account signed in, or with a new password account."""
    try:
        invitation = services.invitation_from_token(token=token, request=request)
    except services.StaffError as error:
        return _link_error(request, error)
    if request.method != "POST":
        return _page(request, invitation, token)
    action = request.POST.get("action", "")
    try:
        if action == "accept" and request.user.is_authenticated:
            services.accept_invitation(invitation=invitation, user=request.user, method="account", request=request)
            messages.success(request, _("You are on the team of the %(series)s.") % {"series": invitation.series})
            return redirect(landing_url(request, request.user))
        if action == "create" and not request.user.is_authenticated:
            form = NewAccountForm(request.POST)
            if not form.is_valid():
                return _page(request, invitation, token, form=form, status=400)
            user = services.accept_with_new_password_account(
                invitation=invitation,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                request=request,
            )
            messages.success(request, _("You are on the team of the %(series)s.") % {"series": invitation.series})
            return sign_in_with_password(request, user)
    except services.StaffError as error:
        if error.code in ("used", "revoked", "expired"):
            return _link_error(request, error)
        return _page(request, invitation, token, form=NewAccountForm(request.POST), error=error.message, status=400)
    return _page(request, invitation, token, status=400)


@never_cache
@require_POST
def accept_with_provider(request, token, provider_id):
    """Start the sign-in at a provider, carrying the invitation: the identity that comes back accepts it."""
    try:
        invitation = services.invitation_from_token(token=token, request=request)
    except services.StaffError as error:
        return _link_error(request, error)
    provider = providers.get(provider_id)
    if provider is None:
        raise Http404
    from allauth.socialaccount.adapter import get_adapter

    social_provider = get_adapter(request).get_provider(request, provider.id)
    return social_provider.redirect(request, AuthProcess.LOGIN, data={"invitation": invitation.key})
