"""A SAML 2.0 identity provider on pysaml2, for the tests: the Web Browser SSO profile as a university IdP runs it.

It publishes its metadata, takes the SP's AuthnRequest (HTTP-Redirect),
shows a sign-in form (pick an account; the test may also ask for a forged
answer), and posts a signed Response to the SP's assertion consumer service,
read from the SP's own metadata. Attributes use their registered URN names
(eduPersonPrincipalName, mail, givenName, sn) as Shibboleth releases them.

Forged answers, for the tests of what the SP must refuse:
- "bad-signature": signed with a key whose certificate is not in the IdP's metadata;
- "other-audience": a valid signature, for another service provider.
"""

import datetime
import html
import re
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

OTHER_AUDIENCE = "https://other-service.example.edu/saml/metadata"
ANSWERS = ("good", "bad-signature", "other-audience")


def key_and_certificate(directory: Path, name: str) -> tuple[Path, Path]:
    """A fresh RSA key and self-signed certificate, as PEM files."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.crt"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class SamlIdP:
    """`SamlIdP(port, accounts, sp_metadata)`: `accounts` maps a login to its attributes
    ({"eduPersonPrincipalName": ..., "mail": ..., "givenName": ..., "sn": ...}); `sp_metadata()`
    returns the SP's metadata XML when a sign-in arrives (the SP publishes it)."""

    def __init__(self, port: int, accounts: dict[str, dict[str, str]], sp_metadata: Callable[[], str]):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.entity_id = f"{self.base}/metadata"
        self.accounts = accounts
        self.sp_metadata = sp_metadata
        self._directory = Path(tempfile.mkdtemp(prefix="saml-idp-"))
        self.key, self.cert = key_and_certificate(self._directory, "idp")
        self.rogue_key, self.rogue_cert = key_and_certificate(self._directory, "rogue")
        self._server = None

    @property
    def metadata_url(self) -> str:
        return f"{self.base}/metadata"

    def _config(self, *, key: Path, cert: Path, sp_metadata: list[str] | None = None) -> IdPConfig:
        config = {
            "entityid": self.entity_id,
            "service": {
                "idp": {
                    "endpoints": {
                        "single_sign_on_service": [
                            (f"{self.base}/sso/redirect", BINDING_HTTP_REDIRECT),
                            (f"{self.base}/sso/post", BINDING_HTTP_POST),
                        ]
                    },
                    "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                    "policy": {"default": {"lifetime": {"minutes": 5}, "name_form": NAME_FORMAT_URI}},
                    "want_authn_requests_signed": False,
                }
            },
            "key_file": str(key),
            "cert_file": str(cert),
            "xmlsec_binary": "/usr/bin/xmlsec1",
            "metadata": {"inline": sp_metadata} if sp_metadata else {},
        }
        idp_config = IdPConfig()
        idp_config.load(config)
        return idp_config

    def metadata(self) -> str:
        return create_metadata_string(None, config=self._config(key=self.key, cert=self.cert), valid=24).decode()

    # The web side

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/metadata":
            return self._reply(start_response, "200 OK", self.metadata(), "application/samlmetadata+xml")
        if path == "/sso/redirect":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            return self._sign_in_form(
                start_response, query.get("SAMLRequest", [""])[0], query.get("RelayState", [""])[0]
            )
        if path == "/sso/login" and environ["REQUEST_METHOD"] == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            form = parse_qs(environ["wsgi.input"].read(size).decode())
            return self._answer(start_response, {key: values[0] for key, values in form.items()})
        return self._reply(start_response, "404 Not Found", "not found", "text/plain")

    @staticmethod
    def _reply(start_response, status, body: str, content_type="text/html; charset=utf-8"):
        data = body.encode()
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data)))])
        return [data]

    def _sign_in_form(self, start_response, saml_request: str, relay_state: str):
        options = "".join(
            f'<option value="{html.escape(login)}">{html.escape(login)}</option>' for login in self.accounts
        )
        answers = "".join(f'<option value="{answer}">{answer}</option>' for answer in ANSWERS)
        page = f"""<!doctype html><html lang="en"><head><title>Test IdP: sign in</title></head><body>
<h1>Test identity provider</h1>
<form method="post" action="/sso/login">
<input type="hidden" name="SAMLRequest" value="{html.escape(saml_request)}">
<input type="hidden" name="RelayState" value="{html.escape(relay_state)}">
<label>Account <select name="login">{options}</select></label>
<label>Answer <select name="answer">{answers}</select></label>
<button type="submit">Sign in at the IdP</button>
</form></body></html>"""
        return self._reply(start_response, "200 OK", page)

    def _answer(self, start_response, form: dict[str, str]):
        sp_metadata = [self.sp_metadata()]
        # Another service provider of the federation, known to the IdP as the site is.
        site_entity = re.search(r'entityID="([^"]+)"', sp_metadata[0])[1]
        sp_metadata.append(sp_metadata[0].replace(site_entity, OTHER_AUDIENCE))
        honest = Server(config=self._config(key=self.key, cert=self.cert, sp_metadata=sp_metadata))
        request = honest.parse_authn_request(form["SAMLRequest"], BINDING_HTTP_REDIRECT).message
        arguments = honest.response_args(request, [BINDING_HTTP_POST])
        answer = form.get("answer", "good")
        signer = honest
        if answer == "bad-signature":
            signer = Server(config=self._config(key=self.rogue_key, cert=self.rogue_cert, sp_metadata=sp_metadata))
        if answer == "other-audience":
            arguments["sp_entity_id"] = OTHER_AUDIENCE
        attributes = self.accounts[form["login"]]
        response = signer.create_authn_response(
            {name: [value] for name, value in attributes.items()},
            userid=attributes["eduPersonPrincipalName"],
            authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"},
            sign_assertion=True,
            sign_response=True,
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
            in_response_to=arguments["in_response_to"],
            destination=arguments["destination"],
            sp_entity_id=arguments["sp_entity_id"],
            name_id_policy=arguments.get("name_id_policy"),
        )
        import base64

        encoded = base64.b64encode(str(response).encode()).decode()
        page = f"""<!doctype html><html lang="en"><head><title>Test IdP: back to the site</title></head><body>
<form method="post" action="{html.escape(arguments["destination"])}">
<input type="hidden" name="SAMLResponse" value="{encoded}">
<input type="hidden" name="RelayState" value="{html.escape(form.get("RelayState", ""))}">
<button type="submit">Continue to the site</button>
</form></body></html>"""
        return self._reply(start_response, "200 OK", page)

    # Running

    def start(self) -> "SamlIdP":
        self._server = make_server(
            "127.0.0.1", self.port, self, server_class=_ThreadingServer, handler_class=_QuietHandler
        )
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
