"""Finding a registrant by what staff type: any letter case, any accent, any script.

Databases compare text differently (SQLite folds only ASCII letters; PostgreSQL
folds by its collation and keeps accents), so the comparison is made here in
Python: each registration stores its name and email folded (`search_key`),
and a search folds the words typed the same way. "nunez", "ÑÚÑEZ" and
"Núñez" all find "José Ñúñez"; "münchen" finds an address at münchen.example
(stored as xn--mnchen-3ya.example: the key has the domain as people type it).
"""

import unicodedata

from django.db import models

from seminar_site.addresses import readable_address


def fold(text: str) -> str:
    """`text` in the one form searches compare: case folded, accents removed, compatibility forms unified."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    return unicodedata.normalize("NFC", "".join(char for char in decomposed if not unicodedata.combining(char)))


def search_words(query: str) -> list[str]:
    """The folded words of a search box's text."""
    return fold(query).split()


def search_condition(query: str, *, field: str = "search_key") -> models.Q:
    """Every word of `query` in `field` (a SearchKeyField); an empty Q for no words."""
    condition = models.Q()
    for word in search_words(query):
        condition &= models.Q(**{f"{field}__contains": word})
    return condition


class SearchKeyField(models.TextField):
    """The folded name and email of a registration, set on every save and bulk_create (through pre_save).

    Queryset .update() calls that change a name or an email must set it too
    (erasure empties it).
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def pre_save(self, model_instance, add):
        value = fold(f"{model_instance.name} {readable_address(model_instance.email)}")
        setattr(model_instance, self.attname, value)
        return value
