"""Fixtures that start real identity providers and point the site's SSO_PROVIDERS at them.

Import them into a conftest or test module: `from tests.idp.fixtures import oidc_provider, saml_idp, sso`.

- `oidc_provider` (session): node-oidc-provider on a free port, with ACCOUNTS["oidc"];
- `saml_idp` (session): the pysaml2 IdP of tests/idp/saml.py, with ACCOUNTS["saml"];
- `sso`: SSO_PROVIDERS naming both ("campus", OpenID Connect; "shibboleth", SAML), and the
  steps a browser takes through each provider, for tests that drive the Django test client.

Without Node.js or the npm packages the OpenID Connect tests are skipped, with the reason;
REQUIRE_BROWSER (CI) turns that into a failure.
"""

import json
import os
import re
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from tests.servers import free_port

from . import oidc
from .saml import SamlIdP

OIDC_ID, SAML_ID = "campus", "shibboleth"
CLIENT_ID, CLIENT_SECRET = "seminars", "test-client-secret"
EPPN = "urn:oid:1.3.6.1.4.1.5923.1.1.1.6"
TIMEOUT = 30

ACCOUNTS = {
    "oidc": {
        "dora": {
            "email": "dora.door@utexas.example",
            "email_verified": True,
            "preferred_username": "dora",
            "given_name": "Dora",
            "family_name": "Díaz",
        },
        "olga": {
            "email": "olga@utexas.example",
            "email_verified": True,
            "preferred_username": "olga",
            "given_name": "Olga",
            "family_name": "Org",
        },
        "stranger": {"email": "stranger@utexas.example", "email_verified": True, "preferred_username": "stranger"},
        "unverified": {"email": "dora.door@utexas.example", "email_verified": False, "preferred_username": "nobody"},
    },
    "saml": {
        "oscar": {
            "eduPersonPrincipalName": "oscar@utexas.example",
            "mail": "oscar@utexas.example",
            "givenName": "Óscar",
            "sn": "Organizer",
        },
        "stranger": {
            "eduPersonPrincipalName": "stranger@utexas.example",
            "mail": "stranger@utexas.example",
            "givenName": "Sam",
            "sn": "Stranger",
        },
    },
}


def _unavailable(reason: str):
    if os.environ.get("REQUIRE_BROWSER"):
        pytest.fail(f"REQUIRE_BROWSER is set, but {reason}.")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    """The issuer URL of a running OpenID Connect provider."""
    try:
        oidc.ensure_installed()
    except oidc.Unavailable as error:
        _unavailable(str(error))
    log = tmp_path_factory.mktemp("oidc") / "oidc-provider.log"
    clients = [
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [f"http://testserver/accounts/oidc/{OIDC_ID}/login/callback/"],
        }
    ]
    paths = [f"/accounts/oidc/{OIDC_ID}/login/callback/"]
    with oidc.run(
        port=free_port(), clients=clients, accounts=ACCOUNTS["oidc"], redirect_paths=paths, log_path=log
    ) as url:
        yield url


@pytest.fixture(scope="session")
def saml_idp():
    idp = SamlIdP(free_port(), ACCOUNTS["saml"], sp_metadata=lambda: "").start()
    try:
        yield idp
    finally:
        idp.stop()


_FORM = re.compile(r"<form[^>]*action=\"([^\"]*)\"", re.S)
_INPUT = re.compile(r"<input[^>]*name=\"([^\"]+)\"[^>]*value=\"([^\"]*)\"", re.S)


def form_of(page: str) -> tuple[str, dict[str, str]]:
    """The action and the named values of the first form on `page`."""
    action = unescape(_FORM.search(page)[1])
    return action, {unescape(name): unescape(value) for name, value in _INPUT.findall(page)}


@dataclass
class SSO:
    oidc_url: str
    idp: SamlIdP
    saml_metadata: str = field(default="", repr=False)

    def providers_setting(self, **overrides) -> str:
        providers = [
            {
                "id": OIDC_ID,
                "name": "Campus Login",
                "protocol": "oidc",
                "issuer": self.oidc_url,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "username_claim": "preferred_username",
            },
            {
                "id": SAML_ID,
                "name": "UT EID",
                "protocol": "saml",
                "entity_id": self.idp.entity_id,
                "metadata_url": self.idp.metadata_url,
                "username_attribute": EPPN,
            },
        ]
        return json.dumps([provider | overrides.get(provider["id"], {}) for provider in providers])

    def serve_sp_metadata(self, xml: str) -> None:
        """What the IdP reads as the site's metadata (the site publishes it at /accounts/saml/<id>/metadata/)."""
        self.saml_metadata = xml
        self.idp.sp_metadata = lambda: xml

    # Through the Django test client, as a browser would go.

    def oidc_sign_in(self, client, login: str, *, start: str = "", data: dict | None = None):
        """Start at the site (`start`: the POST that sends the browser to the provider), sign in as `login`
        at the provider, and return (the callback URL the provider sent the browser to, the site's answer)."""
        response = client.post(start or f"/accounts/oidc/{OIDC_ID}/login/", data or {})
        assert response.status_code == 302, response.content[:2000]
        callback = self.oidc_authorize(response["Location"], login)
        parts = urlsplit(callback)
        return callback, client.get(f"{parts.path}?{parts.query}")

    def oidc_authorize(self, url: str, login: str) -> str:
        """At the provider: its sign-in form (any password), then back: the callback URL."""
        browser = requests.Session()
        while urlsplit(url).netloc == urlsplit(self.oidc_url).netloc:
            response = browser.get(url, allow_redirects=False, timeout=TIMEOUT)
            if response.status_code == 200:
                action, values = form_of(response.text)
                response = browser.post(
                    urljoin(url, action),
                    values | {"login": login, "password": "any"},
                    allow_redirects=False,
                    timeout=TIMEOUT,
                )
            assert response.status_code in (302, 303), response.text[:2000]
            url = urljoin(url, response.headers["Location"])
        return url

    def saml_sign_in(self, client, login: str, *, answer: str = "good", start: str = "", data: dict | None = None):
        """Start at the site, sign in as `login` at the IdP (or get a forged `answer`), post the IdP's
        response to the site as the browser would, and return the site's final answer."""
        # python3-saml takes no single-label host ("testserver") in the site's own URLs.
        client.defaults["HTTP_HOST"] = "localhost"
        self.serve_sp_metadata(client.get(f"/accounts/saml/{SAML_ID}/metadata/").content.decode())
        response = client.post(start or f"/accounts/saml/{SAML_ID}/login/", data or {})
        assert response.status_code == 302, response.content[:2000]
        page = requests.get(response["Location"], timeout=TIMEOUT)
        action, values = form_of(page.text)
        answer_page = requests.post(
            urljoin(response["Location"], action), values | {"login": login, "answer": answer}, timeout=TIMEOUT
        )
        assert answer_page.status_code == 200, answer_page.text[:2000]
        acs, values = form_of(answer_page.text)
        posted = client.post(urlsplit(acs).path, values)
        assert posted.status_code == 302, posted.content[:2000]
        return client.get(posted["Location"])


@pytest.fixture
def sso(settings, oidc_provider, saml_idp):
    """SSO_PROVIDERS naming the running providers; the steps through them."""
    helper = SSO(oidc_url=oidc_provider, idp=saml_idp)
    settings.SSO_PROVIDERS = helper.providers_setting()
    return helper
