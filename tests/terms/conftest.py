import csv
import datetime
import io

import pytest
from django.urls import reverse

from terms.columns import NAMES
from tests.teams import member


def csv_bytes(rows: list[dict], headers=NAMES, delimiter=",") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=headers, extrasaction="ignore", delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def term_rows(count: int, **overrides) -> list[dict]:
    """`count` weekly talks from 2027-01-19 on, as an organizer would type them."""
    rows = []
    for n in range(count):
        rows.append(
            {
                "date": (datetime.date(2027, 1, 19) + datetime.timedelta(weeks=n)).isoformat(),
                "start": "11:00",
                "end": "12:00",
                "title": f"Talk {n + 1}: learning, at scale",
                "speakers": "Atlas Wang",
                "affiliations": "The University of Texas at Austin",
                "room": "GDC 6.302",
                "abstract": f"Abstract of talk {n + 1}.",
            }
            | overrides
        )
    return rows


@pytest.fixture
def organizer(client, series, venue, speaker):
    user = member(series, "ana")
    client.force_login(user)
    return user


@pytest.fixture
def upload(client, series, organizer):
    """Upload a file to the import page of `series`: returns the preview response."""

    def upload(content: bytes, name="term.csv", *, create_missing=False, target=None):
        url = reverse("terms:import", args=[(target or series).pk])
        data = {"file": _named(content, name)}
        if create_missing:
            data["create_missing"] = "on"
        return client.post(url, data)

    return upload


def _named(content, name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


@pytest.fixture
def confirm(client, series):
    def confirm(preview, target=None):
        payload = preview.context["payload"]
        assert payload, "the preview offers no import"
        return client.post(reverse("terms:import", args=[(target or series).pk]), {"rows": payload, "confirm": "1"})

    return confirm
