"""Bounces reported by the provider's tracking webhook."""

import base64
import json

import pytest
from anymail.exceptions import AnymailInsecureWebhookWarning

from outbox import signals
from outbox.models import OutgoingMail

from .conftest import NOTE

URL = "/anymail/postmark/tracking/"


@pytest.fixture
def sent_mail(note_kind):
    return OutgoingMail.objects.create(
        kind=NOTE,
        recipient="ana@example.edu",
        status=OutgoingMail.Status.SENT,
        provider_message_id="883953f4-6105-42a2-a16a-77a8eac79483",
    )


@pytest.fixture
def secret(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}
    return "hook:s3cret"


@pytest.fixture
def bounces():
    received = []

    def record(sender, mail, event_type, description, **kwargs):
        received.append((mail.pk, event_type))

    signals.mail_bounced.connect(record)
    yield received
    signals.mail_bounced.disconnect(record)


def bounce(message_id, record_type="Bounce", kind="HardBounce"):
    return json.dumps(
        {
            "RecordType": record_type,
            "ID": 4323372036854775807,
            "Type": kind,
            "MessageID": message_id,
            "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
            "Email": "ana@example.edu",
            "BouncedAt": "2026-11-20T16:33:54.9070259Z",
            "DeliveredAt": "2026-11-20T16:33:54.9070259Z",
        }
    )


def auth(credentials):
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


def post(client, body, **extra):
    return client.post(URL, body, content_type="application/json", **extra)


def test_bounce_with_the_secret_marks_the_message_and_tells_its_app(client, secret, sent_mail, bounces):
    response = post(client, bounce(sent_mail.provider_message_id), **auth(secret))

    assert response.status_code == 200
    sent_mail.refresh_from_db()
    assert sent_mail.bounced_at is not None
    assert sent_mail.bounce_type == "bounced"
    assert "unable to deliver" in sent_mail.bounce_detail
    assert bounces == [(sent_mail.pk, "bounced")]


@pytest.mark.parametrize("credentials", [None, "hook:wrong", "other:s3cret"])
def test_bounce_without_the_secret_is_refused(client, secret, sent_mail, bounces, credentials):
    extra = auth(credentials) if credentials else {}
    response = post(client, bounce(sent_mail.provider_message_id), **extra)

    assert response.status_code == 400
    assert OutgoingMail.objects.get(pk=sent_mail.pk).bounced_at is None
    assert bounces == []


def test_webhook_without_a_configured_secret_changes_nothing(client, settings, sent_mail, bounces):
    settings.ANYMAIL = {}
    with pytest.warns(AnymailInsecureWebhookWarning):
        post(client, bounce(sent_mail.provider_message_id))

    assert OutgoingMail.objects.get(pk=sent_mail.pk).bounced_at is None
    assert bounces == []


def test_delivery_and_unknown_messages_change_nothing(client, secret, sent_mail, bounces):
    assert (
        post(client, bounce(sent_mail.provider_message_id, record_type="Delivery"), **auth(secret)).status_code == 200
    )
    assert post(client, bounce("00000000-0000-0000-0000-000000000000"), **auth(secret)).status_code == 200

    assert OutgoingMail.objects.get(pk=sent_mail.pk).bounced_at is None
    assert bounces == []


def test_spam_complaint_counts_as_bounce(client, secret, sent_mail, bounces):
    body = bounce(sent_mail.provider_message_id, record_type="SpamComplaint", kind="SpamComplaint")
    assert post(client, body, **auth(secret)).status_code == 200

    assert OutgoingMail.objects.get(pk=sent_mail.pk).bounce_type == "complained"
    assert bounces == [(sent_mail.pk, "complained")]
