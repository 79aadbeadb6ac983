"""Django's makemessages, with this project's settings built in.

`make messages` (and the test that keeps the Spanish catalogue complete) run
exactly this: only the project's own code and templates are read (not the
virtualenv, the tests or the benchmarks), source references name files but
not lines, entries no longer in the code are dropped, and the catalogue
carries no creation date. A catalogue then changes only when a string does,
so branches that touch different strings merge cleanly.
"""

import re
from pathlib import Path

from django.core.management.commands import makemessages

# Paths relative to the project root that hold no user-facing string.
IGNORED = [".venv", "venv", "tests", "bench", "docs", "staticfiles", "var", "node_modules"]

_CREATION_DATE = re.compile(r'^"POT-Creation-Date: [^"]*\\n"\n', re.MULTILINE)


class Command(makemessages.Command):
    def handle(self, *args, **options):
        options["ignore_patterns"] = [*(options.get("ignore_patterns") or []), *IGNORED]
        options["add_location"] = options.get("add_location") or "file"
        options["no_obsolete"] = True
        result = super().handle(*args, **options)
        for locale_path in self.locale_paths:
            for catalogue in Path(locale_path).glob(f"*/LC_MESSAGES/{self.domain}.po"):
                text = catalogue.read_text(encoding="utf-8")
                catalogue.write_text(_CREATION_DATE.sub("", text, count=1), encoding="utf-8")
        return result
