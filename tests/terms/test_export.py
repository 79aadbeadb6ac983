"""Exporting a term: the import's columns, so that export then import reproduces the term."""

import datetime
import io

import pytest
import tablib
from django.urls import reverse
from django.utils import timezone

from events.models import Event, Speaker
from terms.columns import NAMES

pytestmark = pytest.mark.django_db

FIELDS = (
    "title",
    "slug",
    "start",
    "end",
    "venue_id",
    "capacity",
    "attendance_mode",
    "status",
    "abstract",
    "registration_opens",
)


@pytest.fixture
def term(make_event, speaker):
    # An afternoon, whatever the hour the tests run: a row's talk ends on the day it starts.
    start = timezone.localtime(timezone.now() + datetime.timedelta(days=5)).replace(
        hour=15, minute=0, second=0, microsecond=0
    )
    other = Speaker.objects.create(name="María-José O'Neil, PhD", affiliation="Universidad de Chile, Santiago")
    talks = [
        make_event(title='=HYPERLINK("http://evil")', slug="formula", start=start, capacity=12),
        make_event(
            title="Two speakers, one talk",
            slug="two",
            start=start + datetime.timedelta(days=7),
            attendance_mode="hybrid",
            abstract="Line one.\nLine two, with “quotes” and <b>tags</b>.",
            registration_opens=start,
        ),
        make_event(title="A draft", slug="draft", start=start + datetime.timedelta(days=14), status="draft"),
    ]
    talks[1].speakers.add(other)
    return talks


def export(client, series, kind):
    response = client.get(
        reverse("terms:export", args=[series.pk]),
        {
            "start": timezone.localdate().isoformat(),
            "end": (timezone.localdate() + datetime.timedelta(days=60)).isoformat(),
            "format": kind,
        },
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    return response.content


def snapshot():
    return sorted(
        (
            tuple(getattr(talk, name) for name in FIELDS),
            tuple(talk.speakers.order_by("name").values_list("name", flat=True)),
        )
        for talk in Event.objects.all()
    )


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_export_then_import_reproduces_the_term(client, organizer, series, term, upload, confirm, kind):
    content = export(client, series, kind)
    dataset = tablib.Dataset().load(content.decode("utf-8-sig") if kind == "csv" else io.BytesIO(content), format=kind)
    assert list(dataset.headers) == NAMES
    assert len(dataset) == 3
    assert dataset[0][NAMES.index("title")].startswith("'="), "no cell is a formula"
    before = snapshot()

    again = upload(content, name=f"term.{kind}")
    assert [row.action for row in again.context["plan"].rows] == ["unchanged"] * 3

    Event.objects.all().delete()
    preview = upload(content, name=f"term.{kind}")
    assert [row.action for row in preview.context["plan"].rows] == ["create"] * 3
    confirm(preview)
    assert snapshot() == before


def test_the_template_has_the_same_columns(client, organizer):
    for kind in ("csv", "xlsx"):
        response = client.get(reverse("terms:template", args=[kind]))
        content = response.content
        dataset = tablib.Dataset().load(
            content.decode("utf-8-sig") if kind == "csv" else io.BytesIO(content), format=kind
        )
        assert list(dataset.headers) == NAMES


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_an_abstract_typed_in_the_admin_comes_back_unchanged(client, organizer, series, make_event, upload, kind):
    # A browser sends a textarea's line breaks as CR LF, and the admin stores them so.
    start = timezone.localtime(timezone.now() + datetime.timedelta(days=5)).replace(
        hour=15, minute=0, second=0, microsecond=0
    )
    make_event(slug="typed", start=start, abstract="First paragraph.\r\n\r\nSecond, with “quotes”.")

    preview = upload(export(client, series, kind), name=f"term.{kind}")

    (row,) = preview.context["plan"].rows
    assert (row.action, row.changes) == ("unchanged", [])
