"""The talk record, one module per area; every name is importable from `events.models` as before."""

from .events import Event, EventQuerySet, sees_only_published
from .questions import Question, QuestionQuerySet
from .series import WEEKDAYS, Series, SeriesMember, SeriesQuerySet, normalize_origin, scope_to_series, validate_origins
from .speakers import Speaker, SpeakerPhoto, SpeakerQuerySet, photo_path
from .venues import Venue, default_time_zone, validate_time_zone

__all__ = [
    "WEEKDAYS",
    "Event",
    "EventQuerySet",
    "Question",
    "QuestionQuerySet",
    "Series",
    "SeriesMember",
    "SeriesQuerySet",
    "Speaker",
    "SpeakerPhoto",
    "SpeakerQuerySet",
    "Venue",
    "default_time_zone",
    "normalize_origin",
    "photo_path",
    "scope_to_series",
    "sees_only_published",
    "validate_origins",
    "validate_time_zone",
]
