"""Languages: which one a request speaks, and writing a message in its recipient's language.

Pages follow the language switcher's cookie, else the browser's
Accept-Language (LocaleMiddleware). A message is written in the language of
the person it goes to, not of whoever caused it (an organizer who moves a
talk from an English admin still writes to a Spanish registrant in Spanish):
every mail builder renders inside `in_language(recipient.language)`.
"""

from contextlib import AbstractContextManager
from functools import wraps

from django.conf import settings
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header


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


def browser_language(request) -> str:
    """The language the browser asks for (Accept-Language), ignoring the switcher's cookie."""
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code.lower())
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def in_browser_language(view):
    """For responses any shared cache may keep (`Cache-Control: public`): in the Accept-Language's language only.

    Such a response varies by Accept-Language (LocaleMiddleware says so), never by
    cookie: were the switcher's cookie obeyed, a cache would hand one visitor's
    chosen language to everyone whose browser sends the same Accept-Language.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        language = browser_language(request)
        with translation.override(language):
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
        response["Content-Language"] = language
        return response

    return wrapped
