"""A development mailer that writes each message as its own .eml file."""

import email.policy
import uuid
from pathlib import Path

from django.core.mail import InvalidMailer
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone


class EmlFileBackend(BaseEmailBackend):
    """Write every message to `file_path` as `<UTC time>-<random>.eml`.

    Unlike Django's file backend, which appends a whole session to one .log
    file, one file a message opens directly in any mail client.
    """

    def __init__(self, *, file_path=None, **kwargs):
        super().__init__(**kwargs)
        if file_path is None:
            raise InvalidMailer("OPTIONS must define 'file_path'.", alias=self.alias)
        self.file_path = Path(file_path)
        self.file_path.mkdir(parents=True, exist_ok=True)

    def send_messages(self, email_messages):
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
            path = self.file_path / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
            # CRLF line endings, as on the wire (RFC 5322) and inside every .ics (RFC 5545).
            path.write_bytes(message.message(policy=email.policy.SMTP).as_bytes())
            sent += 1
        return sent
