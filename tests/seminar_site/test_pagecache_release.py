"""Pages stored by one release are never served by another (seminar_site/pagecache/release.py)."""

from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.test import Client

from events.models import Event
from seminar_site import pagecache
from seminar_site.pagecache.release import _sources, fingerprint, release

FILES = [("templates/base.html", b"<html>"), ("events/views.py", b"def page(): ...")]


def test_the_fingerprint_is_of_the_contents_in_any_order():
    assert fingerprint(FILES) == fingerprint(list(reversed(FILES)))
    assert fingerprint(FILES) != fingerprint([FILES[0], ("events/views.py", b"def page(): return 1")])
    assert fingerprint(FILES) != fingerprint([FILES[0], ("events/other.py", FILES[1][1])])
    assert fingerprint(FILES) != fingerprint(FILES, manifest='{"paths": {"css/site.css": "css/site.1.css"}}')
    # A name and a content that run into each other are not another file's.
    assert fingerprint([("a", b"bc")]) != fingerprint([("ab", b"c")])


def test_the_release_is_made_of_the_sites_code_templates_and_translations():
    base = Path(settings.BASE_DIR)
    names = {path.relative_to(base).as_posix() for path in _sources(base)}

    assert {"templates/base.html", "events/views.py", "registrations/services/signup.py"} <= names
    assert "locale/es/LC_MESSAGES/django.mo" in names
    assert "requirements.txt" in names
    # Not the tests, not the packages of a virtualenv inside the checkout, no compiled bytecode.
    assert not any(name.startswith(("tests/", ".venv/", "var/")) or name.endswith(".pyc") for name in names)
    assert len(release()) == 16 and release() == release()


def test_a_page_stored_by_the_previous_release_is_not_served_by_the_next(make_event, monkeypatch):
    event = make_event(title="As the previous release shows it")
    url = event.get_absolute_url()
    monkeypatch.setattr(pagecache, "release", lambda: "previous")
    Client().get(url)
    # Changed behind the cache's back: what the previous release stored still shows the old title.
    Event.objects.filter(pk=event.pk).update(title="As the next release shows it")
    assert "As the previous release shows it" in Client().get(url).content.decode()

    # The next release starts with workers of its own (nothing in their memory), on the same shared cache.
    monkeypatch.setattr(pagecache, "release", lambda: "next")
    pagecache._recent.clear()
    page = Client().get(url).content.decode()

    assert "As the next release shows it" in page and "As the previous release shows it" not in page
    assert cache.get(pagecache.page_key(f"talk:{event.slug}")) is not None
    monkeypatch.setattr(pagecache, "release", lambda: "previous")
    assert cache.get(pagecache.page_key(f"talk:{event.slug}")) is not None


def test_the_static_files_manifest_counts_in_any_key_order(settings, tmp_path):
    import importlib
    import json

    # (The package's `release` is the function: the module is imported by its full name.)
    module = importlib.import_module("seminar_site.pagecache.release")

    settings.STATIC_ROOT = str(tmp_path)
    settings.STORAGES = settings.STORAGES | {
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}
    }
    paths = {"css/site.css": "css/site.544bae21e35f.css", "js/a.js": "js/a.1b2c.js"}
    manifest = tmp_path / "staticfiles.json"
    manifest.write_text(json.dumps({"paths": paths, "version": "1.1"}))
    first = module._manifest()
    manifest.write_text(json.dumps({"version": "1.1", "paths": dict(reversed(list(paths.items())))}))

    assert module._manifest() == first and "site.544bae21e35f.css" in first
    manifest.write_text(json.dumps({"paths": paths | {"css/site.css": "css/site.0000.css"}, "version": "1.1"}))
    assert module._manifest() != first
