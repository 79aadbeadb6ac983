"""django-allauth, fitted to a site where nobody signs up: the providers come from SSO_PROVIDERS, an identity
is matched to an invitation or an existing account (or refused), and people land where their role works."""

import io
import logging

import segno
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.providers.base import AuthProcess
from django.shortcuts import render

from seminar_site.limits import client_ip

from . import audit, mfa_secrets, providers, services
from .services.identities import Identity, refuse
from .sessions import landing_url

logger = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return False

    def get_client_ip(self, request):
        # Behind TRUSTED_PROXY_COUNT proxies, as every rate limit of the site counts.
        return client_ip(request) or "unknown"

    def get_login_stages(self):
        return [
            "staff.stages.PasswordSecondFactorStage" if stage == "allauth.mfa.stages.AuthenticateStage" else stage
            for stage in super().get_login_stages()
        ]

    def post_login(self, request, user, *, redirect_url=None, **kwargs):
        return super().post_login(request, user, redirect_url=landing_url(request, user, redirect_url or ""), **kwargs)

    def get_logout_redirect_url(self, request):
        from django.urls import reverse

        return reverse("admin:login")

    def send_mail(self, template_prefix, email, context):
        # Every message of the site goes through the outbox; allauth's own mail is switched off in settings.
        logger.error("allauth tried to send %s directly; not sent", template_prefix)


def identity_of(sociallogin, provider: providers.Provider) -> Identity:
    """What allauth's SocialLogin says about the person, as staff.services matches it."""
    account = sociallogin.account
    emails = [
        address.email.strip()
        for address in sociallogin.email_addresses
        if address.email and (address.verified or provider.trust_email)
    ]
    user_email = (sociallogin.user.email or "").strip() if sociallogin.user is not None else ""
    if user_email and provider.trust_email:
        emails.append(user_email)
    username = ""
    if provider.username_field:
        data = account.extra_data or {}
        if provider.protocol == providers.OIDC:
            data = data.get("userinfo") or data.get("id_token") or data
        value = data.get(provider.username_field)
        if isinstance(value, list):
            value = value[0] if value else ""
        username = str(value or "").strip()
    user = sociallogin.user
    return Identity(
        provider=provider,
        uid=str(account.uid),
        verified_emails=tuple(dict.fromkeys(email.lower() for email in emails)),
        username=username,
        first_name=(user.first_name if user is not None else "") or "",
        last_name=(user.last_name if user is not None else "") or "",
    )


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request, provider=None, client_id=None):
        """The providers of SSO_PROVIDERS (read now): nothing is kept in the database."""
        apps = []
        for configured in providers.configured():
            app = configured.social_app()
            if provider and provider not in (app.provider, app.provider_id):
                continue
            if client_id and app.client_id != client_id:
                continue
            apps.append(app)
        return apps

    def is_open_for_signup(self, request, sociallogin):
        return False

    def authenticate_by_email(self, sociallogin):
        # Matching is staff.services' (pre_social_login), with its own rules.
        return None

    def pre_social_login(self, request, sociallogin):
        """Sign in as the account the identity is bound to or matches, accepting its invitations; else refuse."""
        provider = providers.get(sociallogin.account.provider)
        # Only sign-ins: connecting a second identity to an account is not offered.
        if provider is None or sociallogin.state.get("process", AuthProcess.LOGIN) != AuthProcess.LOGIN:
            raise ImmediateHttpResponse(render(request, "staff/sign_in_refused.html", status=403))
        identity = identity_of(sociallogin, provider)

        def bind(user):
            sociallogin.connect(request, user)

        try:
            services.sign_in_with_identity(
                identity=identity,
                known_user=sociallogin.user if sociallogin.is_existing else None,
                invitation_key=str((sociallogin.state.get("data") or {}).get("invitation") or ""),
                request=request,
                bind=bind,
            )
        except services.StaffError as error:
            refuse(identity=identity, error=error, request=request)
            raise ImmediateHttpResponse(
                render(request, "staff/sign_in_refused.html", {"error": error, "provider": provider}, status=403)
            ) from None

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None):
        """A provider's answer that does not hold (bad signature, wrong audience, wrong state): logged, refused."""
        detail = ", ".join(str(item) for item in (extra_context or {}).get("saml_errors", [])) or str(error or "")
        reason = (extra_context or {}).get("saml_last_error_reason") or (str(exception) if exception else "")
        audit.record(
            audit.Kind.SIGN_IN_FAILED,
            request=request,
            actor=None,
            method=f"{'saml' if provider.id == 'saml' else 'oidc'}:{provider.sub_id}",
            detail=f"{detail} {reason}".strip(),
        )


class MFAAdapter(DefaultMFAAdapter):
    # TOTP secrets and recovery seeds are stored encrypted (staff/mfa_secrets.py).
    def encrypt(self, text: str) -> str:
        return mfa_secrets.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return mfa_secrets.decrypt(encrypted_text)

    def build_totp_svg(self, url: str) -> str:
        # segno, as for the tickets' QR codes.
        buffer = io.BytesIO()
        segno.make(url, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False, svgns=True)
        return buffer.getvalue().decode()
