"""The admin's sign-in page: "Sign in with <provider>" first, then the password form where PASSWORD_LOGIN allows.

Password sign-in goes through allauth's login flow, so an account with a
second factor is asked for it before it is signed in; failures are counted
by staff.throttle, never so as to lock someone else out.
"""

import logging
from urllib.parse import urlencode

from allauth.account.internal.flows.login import perform_login, record_authentication
from allauth.account.models import Login
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from seminar_site.limits import too_many_requests

from .. import audit, providers, throttle
from ..models import Invitation
from ..services.identities import has_staff_access
from ..sessions import has_second_factor, landing_url
from .csp import allow_provider_forms

logger = logging.getLogger(__name__)

BREAK_GLASS_PARAMETER = "break-glass"


def is_break_glass_name(username: str) -> bool:
    names = {name.strip().lower() for name in settings.BREAK_GLASS_USERS if name.strip()}
    return " ".join((username or "").split()).lower() in names


def is_break_glass(user) -> bool:
    """A break-glass account: an active superuser named in BREAK_GLASS_USERS (both, so neither alone suffices)."""
    return bool(user.is_active and user.is_superuser and is_break_glass_name(user.get_username()))


def sign_in_with_password(request, user, next_url: str = ""):
    """Go on with allauth's login flow for `user`, whose password was just checked: the second factor if they
    have one, then where they land. The password counts as fresh proof (for adding a second factor now)."""
    record_authentication(request, user, "password", username=user.get_username(), reauthenticated=True)
    return perform_login(
        request, Login(user=user, redirect_url=landing_url(request, user, next_url), email_verification="none")
    )


class SignInForm(AdminAuthenticationForm):
    """The admin's form, which also lets in an account that is no longer staff while an invitation to its address
    is open: someone taken off every team and invited again is asked to sign in, then to open the invitation."""

    def confirm_login_allowed(self, user):
        if not user.is_staff and user.email and Invitation.objects.usable().filter(email__iexact=user.email).exists():
            AuthenticationForm.confirm_login_allowed(self, user)
            return
        super().confirm_login_allowed(user)


class WrongPasswordForm(AdminAuthenticationForm):
    """The sign-in form answering as for a wrong password, whatever was typed: with PASSWORD_LOGIN off, what the
    break-glass page says (and counts) for anyone but a break-glass superuser, so it names none of them."""

    def clean(self):
        password = self.cleaned_data.get("password")
        if self.cleaned_data.get("username") is not None and password:
            # As long as checking a password takes (as Django's backend does for an unknown name).
            get_user_model()().set_password(password)
            raise self.get_invalid_login_error()
        return self.cleaned_data


def _password_off(request, username) -> str:
    audit.record(
        audit.Kind.SIGN_IN_REFUSED, request=request, actor=None, username=username, method="password", detail="off"
    )
    return _("Password sign-in is off on this site. Sign in with your institution's account.")


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@allow_provider_forms
def login(request):
    """Providers first; the password form (and its POST) only while PASSWORD_LOGIN is on, or for break-glass."""
    next_url = request.POST.get("next", request.GET.get("next", ""))
    if request.method == "GET" and request.user.is_staff and has_staff_access(request.user):
        return redirect(landing_url(request, request.user, next_url))
    break_glass = BREAK_GLASS_PARAMETER in request.GET or request.POST.get("break_glass") == "1"
    form = SignInForm(request, data=request.POST if request.method == "POST" else None)
    status, refusal = 200, ""
    if request.method == "POST":
        username = request.POST.get("username", "")
        if not settings.PASSWORD_LOGIN and not break_glass:
            # Refused before any password is checked, whatever the name (a break-glass one too): the answer
            # tells nothing about the password, nor which names are break-glass.
            form = AdminAuthenticationForm(request, initial={"username": username})
            refusal, status = _password_off(request, username), 403
        else:
            account = get_user_model()._default_manager.filter(username=username).first() if username else None
            wait = throttle.check(
                request, username, has_second_factor=account is not None and has_second_factor(account)
            )
            if wait is not None:
                logger.warning("Password sign-in held back for %s s", wait)
                return too_many_requests(request, retry_after=wait)
            if not (settings.PASSWORD_LOGIN or is_break_glass_name(username)):
                # The break-glass page, another name: its password is not checked.
                _password_off(request, username)
                form = WrongPasswordForm(request, data=request.POST)
            if form.is_valid():
                user = form.get_user()
                if settings.PASSWORD_LOGIN or is_break_glass(user):
                    return sign_in_with_password(request, user, next_url)
                # A right password of an account that is no break-glass superuser.
                _password_off(request, username)
                form = WrongPasswordForm(request, data=request.POST)
                form.is_valid()
            if form.get_user() is None and username and request.POST.get("password"):
                throttle.failed(request, username, user=account)
    context = {
        **admin.site.each_context(request),
        "title": _("Sign in"),
        "app_path": request.get_full_path(),
        "form": form,
        "refusal": refusal,
        "next": next_url,
        "username": request.user.get_username(),
        "providers": [{"name": provider.name, "url": provider.login_path} for provider in providers.configured()],
        "password_shown": settings.PASSWORD_LOGIN or break_glass,
        "break_glass": break_glass and not settings.PASSWORD_LOGIN,
    }
    return render(request, "admin/login.html", context, status=status)


def to_admin_login(request):
    """allauth's sign-in address leads to the one sign-in page there is."""
    next_url = request.GET.get("next", "")
    url = reverse("admin:login")
    return redirect(f"{url}?{urlencode({'next': next_url})}" if next_url else url)


@never_cache
def no_self_service(request):
    """Where allauth would offer to sign up: nobody does, staff are invited."""
    return render(request, "staff/sign_in_refused.html", status=403)
