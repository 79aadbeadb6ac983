"""Languages: which one a request speaks, and writing a message in its recipient's language.

Pages follow the language switcher's cookie, else the browser's
Accept-Language (LocaleMiddleware). A message is written in the language of
the person it goes to, not of whoever caused it (an organizer who moves a
talk from an English admin still writes to a Spanish registrant in Spanish):
every mail builder renders inside `in_language(recipient.language)`.
"""

from contextlib import AbstractContextManager

from django.conf import settings
from django.utils import translation


def supported(language: str | None) -> str:
    """`language` as one of settings.LANGUAGES ("es-MX" -> "es"); the site's default for anything else."""
    if language:
        try:
            return translation.get_supported_language_variant(language.lower())
        except LookupError:
            pass
    return settings.LANGUAGE_CODE


def current() -> str:
    """The language of the running request (what to store as someone's language), one of settings.LANGUAGES."""
    return supported(translation.get_language())


def in_language(language: str | None) -> AbstractContextManager:
    """`with in_language(registration.language):` renders subjects, bodies and dates in that language."""
    return translation.override(supported(language))
