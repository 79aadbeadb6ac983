"""Django's compilemessages, reading only the project's own catalogues (never those inside the virtualenv)."""

from django.core.management.commands import compilemessages

from .makemessages import IGNORED


class Command(compilemessages.Command):
    def handle(self, *args, **options):
        options["ignore_patterns"] = [*(options.get("ignore_patterns") or []), *IGNORED]
        return super().handle(*args, **options)
