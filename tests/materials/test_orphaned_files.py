"""erase_orphaned_material_files: a file whose save was rolled back goes; every file a material holds stays."""

import io
import os
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from materials.models import Material

pytestmark = pytest.mark.django_db


def rolled_back_upload(add_material, event) -> str:
    """An upload whose save was rolled back after its file was stored (as when a later admin form fails)."""
    with pytest.raises(RuntimeError), transaction.atomic():
        material = add_material(event, title="Never published")
        name = material.file.name
        raise RuntimeError("the next form of the page was invalid")
    assert not Material.objects.filter(file=name).exists()
    return name


def age(materials_dir, name: str, *, hours: float) -> None:
    moment = time.time() - hours * 3600
    os.utime(materials_dir / name, (moment, moment))


def erase(*args) -> str:
    out = io.StringIO()
    call_command("erase_orphaned_material_files", *args, stdout=out)
    return out.getvalue()


def test_a_file_left_by_a_rolled_back_upload_goes_once_a_day_old(past_event, add_material, materials_dir):
    kept = add_material(past_event, title="Slides, über-long title")
    left = rolled_back_upload(add_material, past_event)
    fresh = rolled_back_upload(add_material, past_event)
    for name in (kept.file.name, left):
        age(materials_dir, name, hours=25)

    output = erase()

    assert f"  {left}\n" in output and "1 material files" in output
    assert not (materials_dir / left).exists()
    # An upload younger than a day may still be committing; the stored material is untouched.
    assert (materials_dir / fresh).exists()
    assert (materials_dir / kept.file.name).exists()
    assert Material.objects.get(pk=kept.pk).file.read().startswith(b"%PDF")


def test_a_dry_run_lists_and_keeps(past_event, add_material, materials_dir):
    left = rolled_back_upload(add_material, past_event)
    age(materials_dir, left, hours=30)

    output = erase("--dry-run", "--hours", "12")

    assert f"  {left}\n" in output and "would be deleted" in output
    assert (materials_dir / left).exists()
    assert erase("--hours", "31").startswith("0 material files")
    assert (materials_dir / left).exists()


def test_nothing_stored_yet_is_nothing_to_do(db):
    assert erase() == "0 material files no material refers to, older than 24 hours, deleted.\n"


def test_less_than_an_hour_is_refused(db):
    with pytest.raises(CommandError, match="1 or more"):
        erase("--hours", "0")
