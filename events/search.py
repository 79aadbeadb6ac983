"""Searching talks by title, speaker and abstract: the archive's search box.

On PostgreSQL it is full-text search (django.contrib.postgres): every word
typed must be in the title, a speaker's name or the abstract, compared as
English words ("generating" finds "generation"), as Spanish words ("modelos"
finds "modelo") or exactly as written (names), and the results are ranked,
title and speakers above the abstract. Letter case and the common Latin
accents are folded on both sides ("perez" finds "Pérez"), with the same table
in Python and in SQL's translate(), so no database extension is needed.

Elsewhere (SQLite, in development) every word must appear as written in the
title, a speaker's name or the abstract, folded the same way by a function
registered on each SQLite connection (`register_sqlite_fold`); no ranking.
"""

from django.db import connections
from django.db.models import (
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    StringAgg,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce, Lower

# The accented letters folded away, lower and upper case, and what each becomes.
_LOWER = "áàâäãåāăąéèêëēėęíìîïīįóòôöõøōúùûüūůñńçćčšśžźżýÿłđ"
_ACCENTED = _LOWER + _LOWER.upper()
_PLAIN = "aaaaaaaaaeeeeeeeiiiiiiooooooouuuuuunncccsszzzyyld" * 2
_FOLD = str.maketrans(_ACCENTED, _PLAIN)
# Text search configurations a word may match in: stemmed in English or Spanish, or as written.
CONFIGS = ("english", "spanish", "simple")
# The most characters of a query used: a search box is not a document.
MAX_QUERY = 200


def fold(text: str) -> str:
    """`text` lower case, with the accents of `_ACCENTED` removed (as the SQL side does it)."""
    return (text or "").lower().translate(_FOLD)


class Fold(Func):
    """SQL: the text of `expression` folded as `fold()` folds it."""

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra_context):
        # lower() first, then translate() with upper case in the table too:
        # lower() of a non-ASCII letter depends on the database's locale.
        return Func(Lower(*self.source_expressions), Value(_ACCENTED), Value(_PLAIN), function="translate").as_sql(
            compiler, connection
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        return Func(*self.source_expressions, function="seminar_fold", output_field=TextField()).as_sql(
            compiler, connection
        )


def register_sqlite_fold(sender, connection, **kwargs) -> None:
    """connection_created receiver: gives each SQLite connection `seminar_fold()`."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("seminar_fold", 1, fold, deterministic=True)


def _speaker_names():
    from .models import Speaker

    names = (
        Speaker.objects.filter(events=OuterRef("pk"))
        .order_by()
        .values("events")
        .annotate(text=StringAgg("name", delimiter=Value(" ")))
        .values("text")
    )
    return Coalesce(Subquery(names, output_field=TextField()), Value(""), output_field=TextField())


def search(queryset: QuerySet, query: str) -> QuerySet:
    """The talks of `queryset` that match `query` (see the module's docstring); all of them for no words."""
    words = fold(query[:MAX_QUERY]).split()
    if not words:
        return queryset
    if connections[queryset.db].vendor == "postgresql":
        return _full_text(queryset, " ".join(words))
    return _every_word(queryset, words)


def _full_text(queryset: QuerySet, text: str) -> QuerySet:
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

    title, speakers, abstract = Fold(F("title")), Fold(_speaker_names()), Fold(F("abstract"))
    matches, rank = Q(), None
    for config in CONFIGS:
        vector = SearchVector(title, speakers, weight="A", config=config) + SearchVector(
            abstract, weight="B", config=config
        )
        words = SearchQuery(text, search_type="websearch", config=config)
        queryset = queryset.alias(**{f"search_{config}": vector})
        matches |= Q(**{f"search_{config}": words})
        config_rank = SearchRank(vector, words)
        rank = config_rank if rank is None else rank + config_rank
    return queryset.filter(matches).annotate(search_rank=Coalesce(rank, Value(0.0), output_field=FloatField()))


def _every_word(queryset: QuerySet, words: list[str]) -> QuerySet:
    from .models import Speaker

    queryset = queryset.alias(search_title=Fold(F("title")), search_abstract=Fold(F("abstract")))
    for word in words:
        speaker = Speaker.objects.alias(folded=Fold(F("name"))).filter(events=OuterRef("pk"), folded__contains=word)
        queryset = queryset.filter(
            Q(search_title__contains=word) | Q(search_abstract__contains=word) | Q(Exists(speaker))
        )
    return queryset
