"""The identity providers staff sign in with, from the SSO_PROVIDERS setting.

SSO_PROVIDERS is a JSON list (or the path of a file holding one), read when
it is used, so one deployment can offer several providers at once:

    [{"id": "entra", "name": "UT Austin", "protocol": "oidc",
      "issuer": "https://login.microsoftonline.com/<tenant>/v2.0",
      "client_id": "…", "client_secret": "…", "username_claim": "preferred_username"},
     {"id": "shibboleth", "name": "UT EID", "protocol": "saml",
      "metadata_url": "https://…/idp-metadata.xml", "entity_id": "https://enterprise.login.utexas.edu/idp/shibboleth",
      "username_attribute": "urn:oid:1.3.6.1.4.1.5923.1.1.1.6"}]

Each becomes a django-allauth SocialApp (never stored: allauth asks
`apps()` through staff.adapters). README "Staff sign-in" lists every key.
"""

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

OIDC, SAML = "oidc", "saml"
ALLAUTH_PROVIDER = {OIDC: "openid_connect", SAML: "saml"}

# SAML attributes by their registered names (eduPerson, inetOrgPerson): what most university IdPs release.
EPPN = "urn:oid:1.3.6.1.4.1.5923.1.1.1.6"
SAML_DEFAULT_ATTRIBUTES = {
    "uid": [EPPN, "urn:oasis:names:tc:SAML:attribute:subject-id"],
    "email": [
        "urn:oid:0.9.2342.19200300.100.1.3",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    ],
    "first_name": ["urn:oid:2.5.4.42", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname"],
    "last_name": ["urn:oid:2.5.4.4", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname"],
}
_ID_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True)
class Provider:
    """One identity provider as configured."""

    id: str
    name: str
    protocol: str
    # Emails it sends count as verified (a university's own IdP), else only with email_verified.
    trust_email: bool
    # The claim (OIDC) or attribute (SAML) whose value is an account's username, e.g. eduPersonPrincipalName.
    username_field: str
    # Where its sign-in forms lead: allowed as form targets on our sign-in pages (CSP form-action).
    origins: tuple[str, ...]
    config: dict = field(repr=False, hash=False, compare=False)

    @property
    def login_path(self) -> str:
        from django.urls import reverse

        if self.protocol == OIDC:
            return reverse("openid_connect_login", kwargs={"provider_id": self.id})
        return reverse("saml_login", kwargs={"organization_slug": self.id})

    def social_app(self):
        """This provider as the (unsaved) allauth SocialApp its flows use."""
        from allauth.socialaccount.models import SocialApp

        c = self.config
        if self.protocol == OIDC:
            app_settings = {
                "server_url": c["issuer"],
                "oauth_pkce_enabled": c.get("pkce", True),
                "fetch_userinfo": c.get("fetch_userinfo", True),
            }
            for key in ("scope", "token_auth_method"):
                if key in c:
                    app_settings[key] = c[key]
            return SocialApp(
                provider=ALLAUTH_PROVIDER[OIDC],
                provider_id=self.id,
                name=self.name,
                client_id=c["client_id"],
                secret=c.get("client_secret", ""),
                settings=app_settings,
            )
        idp = {"entity_id": c["entity_id"]}
        if c.get("metadata_url"):
            idp["metadata_url"] = c["metadata_url"]
        else:
            idp |= {"sso_url": c["sso_url"], "x509cert": c["x509cert"]}
        attributes = {
            key: ([value] if isinstance(value, str) else value) for key, value in c.get("attributes", {}).items()
        }
        app_settings = {
            "idp": idp,
            "attribute_mapping": SAML_DEFAULT_ATTRIBUTES | attributes,
            # python3-saml checks issuer, audience, destination, times and the signature in strict mode;
            # the assertion itself must be signed, and only logins we started are taken.
            "advanced": {
                "strict": True,
                "want_assertion_signed": c.get("want_assertion_signed", True),
                "want_message_signed": c.get("want_message_signed", False),
                "reject_idp_initiated_sso": True,
                **({"x509cert": c["sp_x509cert"], "private_key": c["sp_private_key"]} if "sp_private_key" in c else {}),
                **({"authn_request_signed": True} if c.get("sign_requests") else {}),
            },
        }
        if c.get("sp_entity_id"):
            app_settings["sp"] = {"entity_id": c["sp_entity_id"]}
        return SocialApp(
            provider=ALLAUTH_PROVIDER[SAML],
            provider_id=self.id,
            name=self.name,
            client_id=self.id,
            settings=app_settings,
        )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("https", "http") and parts.netloc else ""


def _require(entry: dict, *keys: str) -> None:
    missing = [key for key in keys if not entry.get(key)]
    if missing:
        raise ImproperlyConfigured(f"SSO_PROVIDERS: provider {entry.get('id', '?')!r} lacks {', '.join(missing)}.")


def parse(raw: str) -> list[Provider]:
    """The providers in `raw` (JSON, or the path of a JSON file). Raises ImproperlyConfigured with what is wrong."""
    raw = (raw or "").strip()
    if not raw:
        return []
    if not raw.startswith(("[", "{")):
        try:
            raw = Path(raw).read_text()
        except OSError as error:
            raise ImproperlyConfigured(
                f"SSO_PROVIDERS: not a JSON list, nor a file that can be read ({error})."
            ) from None
    try:
        entries = json.loads(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"SSO_PROVIDERS is not valid JSON: {error}.") from None
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise ImproperlyConfigured("SSO_PROVIDERS must be a JSON list of objects, one per provider.")
    providers, seen = [], set()
    for entry in entries:
        _require(entry, "id", "protocol")
        ident = str(entry["id"])
        if not set(ident) <= _ID_CHARS or len(ident) > 40:
            raise ImproperlyConfigured(
                f"SSO_PROVIDERS: id {ident!r} must be lower-case letters, digits, - or _ (it is part of URLs)."
            )
        if ident in seen:
            raise ImproperlyConfigured(f"SSO_PROVIDERS: id {ident!r} is used twice.")
        seen.add(ident)
        protocol = str(entry["protocol"]).lower()
        if protocol == OIDC:
            _require(entry, "issuer", "client_id")
            origins = [_origin(entry["issuer"])]
        elif protocol == SAML:
            _require(entry, "entity_id")
            if not entry.get("metadata_url"):
                _require(entry, "sso_url", "x509cert")
            origins = [_origin(entry.get("sso_url") or ""), _origin(entry.get("metadata_url") or "")]
        else:
            raise ImproperlyConfigured(f'SSO_PROVIDERS: provider {ident!r}: protocol must be "oidc" or "saml".')
        origins += [_origin(url) for url in entry.get("form_origins", [])]
        providers.append(
            Provider(
                id=ident,
                name=str(entry.get("name") or ident),
                protocol=protocol,
                trust_email=bool(entry.get("trust_email", protocol == SAML)),
                username_field=str(entry.get("username_claim") or entry.get("username_attribute") or ""),
                origins=tuple(dict.fromkeys(origin for origin in origins if origin)),
                config=entry,
            )
        )
    return providers


_parsed: tuple[str, list[Provider]] = ("", [])


def configured() -> list[Provider]:
    """The providers SSO_PROVIDERS names now (parsed again only when the setting changed)."""
    global _parsed
    raw = settings.SSO_PROVIDERS
    if _parsed[0] != raw:
        _parsed = (raw, parse(raw))
    return list(_parsed[1])


def get(provider_id: str) -> Provider | None:
    return next((provider for provider in configured() if provider.id == provider_id), None)


def _metadata_sso_origin(provider: Provider) -> str:
    """Where a SAML IdP known by its metadata takes sign-ins (allauth's cached copy of the metadata)."""
    from allauth.socialaccount.providers.saml.utils import fetch_metadata_url_config

    try:
        metadata = fetch_metadata_url_config(provider.social_app().settings["idp"])
        return _origin(metadata["idp"]["singleSignOnService"]["url"])
    except Exception:
        logger.warning("The SAML metadata of %s could not be read", provider.id, exc_info=True)
        return ""


def form_origins() -> list[str]:
    """Every origin a sign-in form may lead to: the site's CSP form-action on pages with provider buttons."""
    origins = []
    for provider in configured():
        origins += provider.origins
        if provider.protocol == SAML and provider.config.get("metadata_url"):
            origins.append(_metadata_sso_origin(provider))
    return list(dict.fromkeys(origin for origin in origins if origin))
