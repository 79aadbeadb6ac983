"""The registrations changelist in tests: its URL, an action run on a selection, the CSV it streams."""

import csv
import io

REGISTRATIONS = "/admin/registrations/registration/"


def run_action(client, action, registrations, *, confirmed=True):
    """Run a changelist action on `registrations`, past its confirmation page where it has one."""
    return client.post(
        REGISTRATIONS,
        {"action": action, "_selected_action": [r.pk for r in registrations]}
        | ({"confirmed": "yes"} if confirmed else {}),
        follow=action != "export_csv",
    )


def read_csv(response):
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    body = body.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))
