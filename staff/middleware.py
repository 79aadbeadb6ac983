import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from . import audit
from .services.sessions import SESSION_KEY, current_generation
from .sessions import (
    PASSWORD_ONLY_KEY,
    SEEN_KEY,
    SEEN_RESOLUTION,
    has_second_factor,
    idle_limit_seconds,
    is_door_only,
)


def _to_sign_in(request, message: str):
    messages.info(request, message)
    target = request.get_full_path() if request.method == "GET" else ""
    url = reverse("admin:login")
    return redirect(f"{url}?{urlencode({'next': target})}" if target else url)


class StaffSessionMiddleware:
    """The rules of a staff session, checked on each request of a signed-in person, in this order:

    1. signed out everywhere since this session began (staff.services.sign_out_everywhere): sign in again;
    2. idle longer than STAFF_IDLE_MINUTES: signed out, and logged;
    3. REQUIRE_2FA and a password sign-in without a second factor: only the pages that add one;
    4. door staff only: the admin sends them to the door pages.

    It also names the request's user as the actor of any change logged meanwhile (staff.audit).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = audit.set_actor(request.user)
        try:
            return self.check(request) or self.get_response(request)
        finally:
            audit.reset_actor(token)

    def check(self, request):
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return None  # no session, nobody signed in: nothing to read
        user = request.user
        if not user.is_authenticated:
            return None
        session = request.session
        if session.get(SESSION_KEY, 0) != current_generation(user):
            request._staff_session_ended = True
            logout(request)
            return _to_sign_in(request, _("You were signed out on every device. Sign in again."))
        now = int(time.time())
        seen = session.get(SEEN_KEY)
        if seen is not None and now - seen > idle_limit_seconds():
            audit.record(audit.Kind.SESSION_EXPIRED, request=request, user=user, actor=user)
            request._staff_session_ended = True
            logout(request)
            return _to_sign_in(
                request,
                _("You were signed out after %(minutes)s minutes without activity. Sign in again.")
                % {"minutes": settings.STAFF_IDLE_MINUTES},
            )
        if seen is None or now - seen >= SEEN_RESOLUTION:
            session[SEEN_KEY] = now
        path = request.path_info
        if settings.REQUIRE_2FA and session.get(PASSWORD_ONLY_KEY) and not path.startswith(self._enrolment_paths()):
            if has_second_factor(user):  # enrolled since (in this session or another)
                session.pop(PASSWORD_ONLY_KEY)
                return None
            messages.info(
                request,
                _("You signed in with a password: add a second factor to your account before you go on."),
            )
            return redirect("mfa_activate_totp")
        admin_root = reverse("admin:index")
        if path.startswith(admin_root) and not path.startswith(self._own_account_paths()) and is_door_only(user):
            return redirect("checkin:index")
        return None

    @staticmethod
    def _enrolment_paths() -> tuple[str, ...]:
        return (
            reverse("mfa_index"),
            reverse("account_reauthenticate"),
            reverse("account_logout"),
            reverse("admin:logout"),
            reverse("set_language"),
            reverse("staff:account"),
            settings.STATIC_URL if settings.STATIC_URL.startswith("/") else f"/{settings.STATIC_URL}",
        )

    @staticmethod
    def _own_account_paths() -> tuple[str, ...]:
        return (reverse("admin:logout"), reverse("admin:password_change"), reverse("admin:password_change_done"))
