"""Which release a stored page belongs to: pages of one release are never served by another.

A stored page is the output of the code, templates and translations that
rendered it, and it names the static files of its release (hashed names, such
as css/site.544bae21e35f.css). Served by the next release, such a page would
show the old text and, once the old files are gone from the new image, no
style at all, until it expired (PAGE_CACHE_TIMEOUT). So stored pages are keyed
by `release()`: a fingerprint of what pages are made from, computed once per
process from the files themselves (not their times), so every host and worker
of one release agrees on it with nothing to configure, and a rolling deploy
keeps the two releases' pages apart while both run.
"""

import hashlib
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from django.apps import apps
from django.conf import settings

# What a page is made from: the site's Python, templates, text templates and compiled translations.
SOURCE_SUFFIXES = frozenset({".py", ".html", ".txt", ".mo"})


def fingerprint(files: Iterable[tuple[str, bytes]], manifest: str = "") -> str:
    """A short hash of `files` ((name, content) pairs, in any order) and the static files' `manifest`."""
    digest = hashlib.sha256()
    for name, content in sorted(files):
        digest.update(f"{len(name)}:{name}:{len(content)}:".encode())
        digest.update(content)
    digest.update(manifest.encode())
    return digest.hexdigest()[:16]


@cache
def release() -> str:
    """This release's fingerprint (computed on first use; a process runs one release)."""
    base = Path(settings.BASE_DIR)
    return fingerprint(((path.relative_to(base).as_posix(), path.read_bytes()) for path in _sources(base)), _manifest())


def _sources(base: Path) -> list[Path]:
    # The site's own apps (not those installed in a virtualenv inside the checkout: the pinned
    # versions in requirements.txt stand for them), templates and translations.
    roots = {
        Path(config.path)
        for config in apps.get_app_configs()
        if Path(config.path).is_relative_to(base) and "site-packages" not in Path(config.path).parts
    }
    roots |= {Path(directory) for template in settings.TEMPLATES for directory in template.get("DIRS", ())}
    roots |= {Path(directory) for directory in settings.LOCALE_PATHS}
    found = {
        path
        for root in roots
        if root.is_relative_to(base)
        for path in root.rglob("*")
        if path.suffix in SOURCE_SUFFIXES and path.is_file() and "__pycache__" not in path.parts
    }
    pins = base / "requirements.txt"
    if pins.is_file():
        found.add(pins)
    return sorted(found)


def _manifest() -> str:
    # The hashed names of the static files (ManifestStaticFilesStorage); none while DEBUG serves them as they are.
    from django.contrib.staticfiles.storage import staticfiles_storage

    read = getattr(staticfiles_storage, "read_manifest", None)
    text = (read() or "") if read is not None else ""
    # In a canonical order: hosts that each ran collectstatic on the same files agree.
    return json.dumps(json.loads(text), sort_keys=True) if text else ""
