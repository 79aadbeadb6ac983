import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from events.models import Series


def test_series_slugs_are_unique(series):
    with pytest.raises(IntegrityError), transaction.atomic():
        Series.objects.create(name="Other", slug=series.slug, organizer_name="X", organizer_email="x@example.edu")


# Sites that may embed a series' listing


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("https://www.cs.utexas.edu", "https://www.cs.utexas.edu"),
        ("  HTTPS://WWW.CS.UTEXAS.EDU/  ", "https://www.cs.utexas.edu"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
        (
            "https://a.example.edu\n\nhttps://a.example.edu\r\nhttps://b.example.edu",
            "https://a.example.edu\nhttps://b.example.edu",
        ),
    ],
)
def test_embed_origins_are_stored_normalized(series, written, stored):
    series.embed_origins = written
    series.full_clean()
    assert series.embed_origins == stored


@pytest.mark.parametrize(
    "written",
    [
        "www.cs.utexas.edu",
        "https://www.cs.utexas.edu/news/",
        "https://www.cs.utexas.edu?x=1",
        "ftp://files.example.edu",
        "https://user@example.edu",
        "https://example.edu; script-src *",
        "https://example.edu 'unsafe-inline'",
        "https://*.example.edu",
        "javascript:alert(1)",
        "https://example.edu:99999",
        "https://",
    ],
)
def test_embed_origins_refuse_what_is_not_an_origin(series, written):
    series.embed_origins = f"https://fine.example.edu\n{written}"
    with pytest.raises(ValidationError) as excinfo:
        series.full_clean()
    assert "is not a web origin" in excinfo.value.message_dict["embed_origins"][0]
