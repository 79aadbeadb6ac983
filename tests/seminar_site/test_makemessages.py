"""The Spanish catalogue is complete, compiled, and holds every string the code and templates mark.

Read with polib (the .po) and Python's own gettext (the committed .mo), so the
first two checks need no gettext tools; the last runs the project's
makemessages (xgettext) on a copy of the project, as `make messages` does.
"""

import gettext
import os
import re
import shutil
import subprocess

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

LOCALE = settings.BASE_DIR / "locale"
PO = LOCALE / "es" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")

# %(name)s, %s, %d, {name}: what a translation must carry over unchanged.
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")
TAG = re.compile(r"</?(\w+)")


def key(entry) -> tuple:
    return (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")


def catalogue(path=PO) -> polib.POFile:
    return polib.pofile(str(path))


def needs_gettext_tools(*tools):
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        message = f"needs GNU gettext ({', '.join(missing)}): apt-get install gettext"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def test_every_spanish_entry_is_translated_and_none_is_fuzzy():
    po = catalogue()

    assert po.metadata["Language"] == "es"
    assert not po.metadata_is_fuzzy
    assert [entry.msgid for entry in po.untranslated_entries()] == []
    assert [entry.msgid for entry in po.fuzzy_entries()] == []
    assert [entry.msgid for entry in po.obsolete_entries()] == []
    assert len(po) > 500


def test_translations_keep_every_placeholder_and_tag():
    wrong = []
    for entry in catalogue():
        sources = [entry.msgid, entry.msgid_plural] if entry.msgid_plural else [entry.msgid]
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        expected = sorted(set(PLACEHOLDER.findall(sources[-1])) | set(PLACEHOLDER.findall(sources[0])))
        tags = sorted(TAG.findall(entry.msgid))
        for translation in translations:
            found = sorted(set(PLACEHOLDER.findall(translation)))
            # A singular may name its number in words ("una"): only the plural must carry every placeholder.
            if found != expected and not (entry.msgid_plural and set(found) <= set(expected)):
                wrong.append((entry.msgid, translation))
            if sorted(TAG.findall(translation)) != tags:
                wrong.append((entry.msgid, translation))
    assert wrong == []


def test_the_committed_compiled_catalogue_matches_the_po_file():
    with MO.open("rb") as file:
        compiled = gettext.GNUTranslations(file)
    expected = {}
    for entry in catalogue().translated_entries():
        msgid = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        if entry.msgid_plural:
            expected |= {(msgid, int(n)): text for n, text in entry.msgstr_plural.items()}
        else:
            expected[msgid] = entry.msgstr
    actual = {msgid: text for msgid, text in compiled._catalog.items() if msgid != ""}

    assert actual == expected, "locale/es/LC_MESSAGES/django.mo is out of date: run `make messages`"


def test_msgfmt_accepts_the_catalogue(tmp_path):
    needs_gettext_tools("msgfmt")

    result = subprocess.run(  # noqa: S603 (a fixed command on our own file)
        ["msgfmt", "--check", "--output-file", str(tmp_path / "django.mo"), str(PO)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr


def test_makemessages_finds_no_string_the_catalogue_lacks(tmp_path, monkeypatch, settings):
    needs_gettext_tools("xgettext", "msgmerge", "msguniq")
    project = tmp_path / "site"
    shutil.copytree(
        settings.BASE_DIR,
        project,
        symlinks=True,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "var", "tests", "bench", "docs", "staticfiles", "node_modules", "__pycache__", ".*cache"
        ),
    )
    monkeypatch.chdir(project)
    settings.LOCALE_PATHS = [project / "locale"]

    call_command("makemessages", locale=["es"], verbosity=0)

    committed, fresh = catalogue(), catalogue(project / "locale" / "es" / "LC_MESSAGES" / "django.po")
    assert sorted(set(map(key, fresh)) - set(map(key, committed))) == [], "new strings: run `make messages`"
    assert sorted(set(map(key, committed)) - set(map(key, fresh))) == [], "strings gone: run `make messages`"
    assert [entry.msgid for entry in fresh.untranslated_entries()] == []
    assert [entry.msgid for entry in fresh.fuzzy_entries()] == []
    assert "POT-Creation-Date" not in fresh.metadata
