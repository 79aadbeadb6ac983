"""Talks: what the public may see of them, their seats and online places, their calendar state."""

import datetime
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import search as talk_search
from .. import signals
from .series import Series, _is_staff, scope_to_series
from .venues import Venue

# Talks the public may see: published or cancelled (a cancelled talk keeps its page).
_PUBLIC = Q(status__in=["published", "cancelled"])


def sees_only_published(user) -> bool:
    """Whether `Event.objects.visible_to(user)` is `published()`: for everyone but staff."""
    return not _is_staff(user)


class EventQuerySet(models.QuerySet):
    def published(self):
        """Talks the public may see: published or cancelled (a cancelled talk keeps its page)."""
        return self.filter(_PUBLIC)

    def managed_by(self, user, *, roles=None):
        """Talks of the series `user` may run (see `scope_to_series`)."""
        return scope_to_series(self, user, series_path="series", roles=roles)

    def visible_to(self, user):
        """Public talks, plus drafts of the series `user` organizes (shown to them as a preview)."""
        if _is_staff(user) and user.is_superuser:
            return self
        if sees_only_published(user):
            return self.published()
        return self.filter(_PUBLIC | Q(series__in=Series.objects.managed_by(user)))

    def upcoming(self, now=None):
        return self.filter(end__gt=now or timezone.now()).order_by("start", "pk")

    def past(self, now=None):
        return self.filter(end__lte=now or timezone.now()).order_by("-start", "-pk")

    def search(self, query: str):
        """Talks whose title, speakers or abstract match `query`; ranked (`search_rank`) on PostgreSQL.

        Full-text search on PostgreSQL, every word as written elsewhere (see events/search.py).
        """
        return talk_search.search(self, query)

    def in_year(self, year: int):
        """Talks that start in `year` on the site's clock."""
        return self.filter(start__year=year)

    def with_related(self):
        return self.select_related("series", "venue").prefetch_related("speakers")

    def next_change(self, now=None):
        """The first start or end of these talks after `now`: when a list of them changes by itself (or None)."""
        now = now or timezone.now()
        found = self.aggregate(
            start=models.Min("start", filter=Q(start__gt=now)), end=models.Min("end", filter=Q(end__gt=now))
        )
        return min((moment for moment in found.values() if moment), default=None)


# Characters of the organizers' note on a cancelled talk: a paragraph or two for an email.
CANCELLATION_NOTE_MAX = 2000


class Event(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        CANCELLED = "cancelled", _("Cancelled")

    class AttendanceMode(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        ONLINE = "online", _("Online")
        HYBRID = "hybrid", _("In person and online")

    series = models.ForeignKey(Series, models.PROTECT, related_name="events", verbose_name=_("series"))
    title = models.CharField(_("title"), max_length=300)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    speakers = models.ManyToManyField("Speaker", related_name="events", verbose_name=_("speakers"), blank=True)
    abstract = models.TextField(_("abstract"), blank=True)
    # Empty only for a talk online only (a check constraint says so); it then keeps the site's time zone.
    venue = models.ForeignKey(
        Venue,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("venue"),
        help_text=_("Required unless the talk is online only."),
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    capacity = models.PositiveIntegerField(
        _("capacity"), blank=True, help_text=_("Seats for registrants. Leave empty to use the venue's capacity.")
    )
    # Owned by registrations.services, which changes it only with F() updates
    # while holding the event row lock; the check constraint below makes
    # overbooking impossible even if code forgets that rule.
    seats_taken = models.PositiveIntegerField(
        _("seats taken"), default=0, editable=False, help_text=_("Confirmed seats and seats held until confirmed.")
    )
    registration_opens = models.DateTimeField(
        _("registration opens"), null=True, blank=True, help_text=_("Empty: open as soon as the talk is published.")
    )
    registration_closes = models.DateTimeField(
        _("registration closes"), null=True, blank=True, help_text=_("Empty: open until the talk starts.")
    )
    waitlist_enabled = models.BooleanField(_("waiting list"), default=True)
    waitlist_limit = models.PositiveIntegerField(
        _("waiting list limit"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    attendance_mode = models.CharField(
        _("attendance"),
        max_length=20,
        choices=AttendanceMode,
        default=AttendanceMode.IN_PERSON,
        help_text=_(
            "An online talk needs no venue: with one, the talk keeps the venue's time zone; without, the site's."
        ),
    )
    online_capacity = models.PositiveIntegerField(
        _("online places"),
        null=True,
        blank=True,
        help_text=_("Empty: no limit. With a limit, online attendance has its own waiting list."),
    )
    # Like seats_taken, owned by registrations.services under the event row lock.
    online_seats_taken = models.PositiveIntegerField(
        _("online places taken"),
        default=0,
        editable=False,
        help_text=_("Confirmed places and places held until confirmed."),
    )
    # Private: only registrants attending online ever see it (emails, their invite, their own page).
    stream_url = models.URLField(
        _("stream link"),
        max_length=1000,
        blank=True,
        help_text=_("The Zoom, Teams... link. Never shown on public pages, feeds or the public calendar."),
    )
    stream_reveal_minutes = models.PositiveIntegerField(
        _("show the link (minutes before the start)"),
        null=True,
        blank=True,
        help_text=_("Empty: registrants see the link as soon as they register."),
    )
    confirm_by_email = models.BooleanField(
        _("confirm by email"),
        default=False,
        help_text=_(
            "Every sign-up keeps its seat only once the person presses the button in our email (within the "
            "hold time). Also on when the series asks it."
        ),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.DRAFT)
    # The organizers' word on a cancellation (events.services.cancel_event): sent with the cancellation
    # email and shown on the talk's page while it is cancelled; dropped once it is not (Event.save).
    cancellation_note = models.TextField(
        _("why it was cancelled"),
        max_length=CANCELLATION_NOTE_MAX,
        blank=True,
        help_text=_(
            "Shown on the talk's page. Registrants were emailed the message you wrote when you cancelled; "
            "changing it here emails nobody."
        ),
    )
    announce_to_followers = models.BooleanField(
        _("announce to followers"),
        default=True,
        help_text=_("When the talk is published, email the series' followers who asked for announcements."),
    )
    # iCalendar SEQUENCE of the talk: raised whenever its time, place or
    # status changes so calendar clients replace what they stored.
    sequence = models.PositiveIntegerField(_("calendar sequence"), default=0, editable=False)
    # The start the public first saw, kept once the published talk moves to
    # another time: search engines show it as rescheduled (unless moved back).
    previous_start = models.DateTimeField(_("previous start"), null=True, blank=True, editable=False)
    # Registrants were told the talk is cancelled and not told otherwise since: publishing it again
    # (straight away or through a draft) tells them it is on again.
    cancellation_announced = models.BooleanField(_("cancellation announced"), default=False, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = _("talk")
        verbose_name_plural = _("talks")
        ordering = ["start", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="event_end_after_start"),
            models.CheckConstraint(condition=Q(capacity__gte=0), name="event_capacity_not_negative"),
            models.CheckConstraint(
                condition=Q(seats_taken__gte=0) & Q(seats_taken__lte=F("capacity")),
                name="event_seats_within_capacity",
            ),
            models.CheckConstraint(
                condition=Q(online_seats_taken__gte=0)
                & (Q(online_capacity__isnull=True) | Q(online_seats_taken__lte=F("online_capacity"))),
                name="event_online_seats_within_capacity",
            ),
            models.CheckConstraint(
                condition=Q(attendance_mode__in=["in_person", "online", "hybrid"]),
                name="event_attendance_mode_valid",
            ),
            models.CheckConstraint(
                condition=Q(venue__isnull=False) | Q(attendance_mode="online"),
                name="event_venue_unless_online",
                violation_error_message=_("A talk in a room needs a venue: choose one, or make the talk online only."),
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("cancellation_note"), CANCELLATION_NOTE_MAX),
                name="event_cancellation_note_length",
            ),
            models.CheckConstraint(
                condition=Q(registration_opens__isnull=True)
                | Q(registration_closes__isnull=True)
                | Q(registration_closes__gt=F("registration_opens")),
                name="event_registration_closes_after_opens",
            ),
        ]
        indexes = [models.Index(fields=["status", "start"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("events:event_detail", kwargs={"slug": self.slug})

    def clean(self):
        errors = {}
        if self.start and self.end and self.end <= self.start:
            errors["end"] = ValidationError(_("The talk must end after it starts."), code="end_before_start")
        if self.registration_opens and self.registration_closes and self.registration_closes <= self.registration_opens:
            errors["registration_closes"] = ValidationError(
                _("Registration must close after it opens."), code="closes_before_opens"
            )
        if self.start and self.registration_opens and self.registration_opens >= self.start:
            errors["registration_opens"] = ValidationError(
                _("Registration must open before the talk starts."), code="opens_after_start"
            )
        if self.start and self.registration_closes and self.registration_closes > self.start:
            # It would be ignored: registration ends when the talk starts.
            errors.setdefault(
                "registration_closes",
                ValidationError(
                    _("Registration closes when the talk starts at the latest: choose an earlier time, or none."),
                    code="closes_after_start",
                ),
            )
        if self.venue_id is None and self.attendance_mode != self.AttendanceMode.ONLINE:
            errors["venue"] = ValidationError(
                _("A talk in a room needs a venue: choose one, or make the talk online only."), code="venue_missing"
            )
        if self.capacity is None and self.venue_id:
            self.capacity = self.venue.default_capacity
        if self.capacity is not None and self.capacity < self.seats_taken:
            errors["capacity"] = ValidationError(
                _(
                    "%(taken)s people already hold a seat. "
                    "Cancel registrations before lowering the capacity below that."
                ),
                params={"taken": self.seats_taken},
                code="capacity_below_taken",
            )
        if self.online_capacity is not None and self.online_capacity < self.online_seats_taken:
            errors["online_capacity"] = ValidationError(
                _("%(taken)s people already hold an online place. Cancel registrations before lowering the limit."),
                params={"taken": self.online_seats_taken},
                code="online_capacity_below_taken",
            )
        if not self.has_in_person and self.seats_taken:
            errors["attendance_mode"] = ValidationError(
                _("%(taken)s people hold a seat in the room: the talk cannot become online only."),
                params={"taken": self.seats_taken},
                code="in_person_taken",
            )
        elif not self.has_online and self.online_seats_taken:
            errors["attendance_mode"] = ValidationError(
                _("%(taken)s people attend online: the talk must stay online too."),
                params={"taken": self.online_seats_taken},
                code="online_taken",
            )
        if self.has_online and not self.stream_url and self.stream_reveal_minutes is not None:
            errors["stream_url"] = ValidationError(
                _("Give the stream link, or leave the time to show it empty."), code="stream_url_missing"
            )
        if errors:
            raise ValidationError(errors)

    # What a calendar shows of a talk besides its text: a change to one of
    # these raises `sequence` and, once committed, tells registrants.
    CALENDAR_FIELDS = ("start", "end", "venue_id")
    # What a registrant's invite shows, as form field names: by default a
    # change to the time or place is sent to registrants, one to the text is not.
    TIME_AND_PLACE_FIELDS = ("start", "end", "venue")
    TEXT_FIELDS = ("title", "speakers", "abstract")
    # What only the invites of registrants attending online show: a new link
    # reaches them on its own (stream_changed), or with the new time or place
    # of the same save (event_rescheduled), never as a second email.
    STREAM_FIELDS = ("stream_url",)
    # False: this save's time, place or stream link change is not announced
    # (event_rescheduled, stream_changed); the caller decides whether registrants hear of it.
    announce_changes = True

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        instance = super().from_db(db, field_names, values, **kwargs)
        instance._remember_calendar_state()
        return instance

    def _remember_calendar_state(self):
        # Deferred fields are absent from __dict__: they cannot have changed.
        self._loaded_calendar_state = {
            name: self.__dict__[name]
            for name in (*self.CALENDAR_FIELDS, "status", "stream_url")
            if name in self.__dict__
        }

    def _calendar_changes(self):
        """(changed calendar fields, became cancelled) since the row was loaded."""
        loaded = getattr(self, "_loaded_calendar_state", None)
        if self._state.adding or not loaded:
            return frozenset(), False
        changed = {
            name.removesuffix("_id")
            for name in self.CALENDAR_FIELDS
            if name in loaded and loaded[name] != getattr(self, name)
        }
        old_status = loaded.get("status", self.status)
        became_cancelled = self.status == self.Status.CANCELLED and old_status != self.Status.CANCELLED
        return frozenset(changed), became_cancelled

    def save(self, *args, **kwargs):
        if self.capacity is None:
            # No venue: online only, no seats in a room.
            self.capacity = self.venue.default_capacity if self.venue_id else 0
        # The seat counter belongs to the registration services: a plain save
        # (the admin's, say) must never write back a value it read earlier.
        if self.pk and not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in ("seats_taken", "online_seats_taken")
            ]
        changed, became_cancelled = self._calendar_changes()
        loaded = getattr(self, "_loaded_calendar_state", None) or {}
        # Back on after its registrants heard it was cancelled: they hear it is on again instead of
        # an update, with the talk as it is now (moved meanwhile or not).
        reinstated = self.status == self.Status.PUBLISHED and self.cancellation_announced
        became_public = self.status == self.Status.PUBLISHED and (
            self._state.adding or loaded.get("status", self.status) == self.Status.DRAFT
        )
        previous_url = loaded.get("stream_url", self.stream_url)
        was_cancelled = loaded.get("status", self.status) == self.Status.CANCELLED
        if self.cancellation_note and was_cancelled and not self.is_cancelled:
            # The reason belongs to the cancellation: a talk that is on again (or a draft again) says nothing of it.
            self.cancellation_note = ""
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "cancellation_note"}
        stream_changed = not self._state.adding and previous_url != self.stream_url and bool(self.stream_url)
        if changed or became_cancelled or reinstated:
            self.sequence += 1
            extra_fields = {"sequence"}
            if became_cancelled or reinstated:
                self.cancellation_announced = became_cancelled
                extra_fields.add("cancellation_announced")
            if (
                "start" in changed
                and self.previous_start is None
                and self._loaded_calendar_state.get("status") == self.Status.PUBLISHED
            ):
                self.previous_start = self._loaded_calendar_state["start"]
                extra_fields.add("previous_start")
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], *extra_fields}
        super().save(*args, **kwargs)
        self._remember_calendar_state()
        if became_public:
            # In this transaction: whatever receivers record commits or rolls back with the publish.
            signals.event_published.send(sender=Event, event=self)
        # One save, one announcement: a registrant gets one email however many things it changed.
        announced = self.status == self.Status.PUBLISHED and self.announce_changes
        new_link = stream_changed and self.has_online
        if became_cancelled:
            self._announce(signals.event_cancelled)
        elif reinstated:
            # The on-again email shows the talk as it is now, a new stream link included.
            self._announce(signals.event_reinstated)
        elif announced and changed:
            fields = changed | set(self.STREAM_FIELDS) if new_link else changed
            self._announce(signals.event_rescheduled, changed_fields=fields, previous_url=previous_url)
        elif announced and new_link:
            # Online registrants only; whoever attends in person never sees the link.
            self._announce(signals.stream_changed, previous_url=previous_url)

    def _announce(self, signal, **kwargs):
        # Only after commit: a rolled-back edit must email nobody, and
        # receivers then see the committed talk.
        transaction.on_commit(lambda: signal.send(sender=Event, event=self, **kwargs), robust=True)

    def venue_changed(self):
        """Its venue's room, building or address was edited: calendars must show the new place."""
        Event.objects.filter(pk=self.pk).update(sequence=F("sequence") + 1)
        self.refresh_from_db(fields=["sequence"])
        if self.status == self.Status.PUBLISHED:
            self._announce(signals.event_rescheduled, changed_fields=frozenset({"venue"}))

    @property
    def time_zone_name(self) -> str:
        """The talk's clock: its venue's time zone, or the site's for an online talk without a venue."""
        return self.venue.time_zone if self.venue_id else settings.TIME_ZONE

    @property
    def local_time_zone(self):
        return zoneinfo.ZoneInfo(self.time_zone_name)

    @property
    def local_start(self):
        return timezone.localtime(self.start, self.local_time_zone)

    @property
    def local_end(self):
        return timezone.localtime(self.end, self.local_time_zone)

    @property
    def is_cancelled(self):
        return self.status == self.Status.CANCELLED

    def has_started(self, now=None):
        return self.start <= (now or timezone.now())

    def is_past(self, now=None):
        return self.end <= (now or timezone.now())

    @property
    def is_rescheduled(self):
        """Moved to another time after it was published (and not moved back)."""
        return self.previous_start is not None and self.previous_start != self.start

    def next_change(self, now):
        """The first moment after `now` at which the talk's page changes by itself, or None.

        Registration opens or closes, the talk starts (registration closes,
        "happening now") or ends.
        """
        moments = (self.registration_opens, self.registration_closes, self.start, self.end)
        return min((moment for moment in moments if moment and moment > now), default=None)

    @property
    def seats_left(self):
        return max(self.capacity - self.seats_taken, 0)

    @property
    def asks_confirmation_by_email(self) -> bool:
        """The organizers want every sign-up confirmed by email: on the talk, or on its whole series."""
        return self.confirm_by_email or self.series.confirm_by_email

    @property
    def has_in_person(self):
        return self.attendance_mode != self.AttendanceMode.ONLINE

    @property
    def has_online(self):
        return self.attendance_mode != self.AttendanceMode.IN_PERSON

    @property
    def short_place(self) -> str:
        """Where, in a few words for lists: "GDC 6.302", "GDC 6.302 and online" or "Online"."""
        if not self.has_in_person:
            return str(_("Online"))
        if self.has_online:
            return str(_("%(room)s and online") % {"room": self.venue.room})
        return self.venue.room

    @property
    def online_places_left(self):
        """Free online places; None when online attendance has no limit."""
        if self.online_capacity is None:
            return None
        return max(self.online_capacity - self.online_seats_taken, 0)

    @property
    def stream_reveal_at(self):
        """From when registrants attending online see the stream link (None: from registering)."""
        if self.stream_reveal_minutes is None:
            return None
        return self.start - datetime.timedelta(minutes=self.stream_reveal_minutes)

    def stream_revealed(self, now=None) -> bool:
        """Whether online registrants may see the stream link now."""
        if not (self.has_online and self.stream_url):
            return False
        reveal_at = self.stream_reveal_at
        return reveal_at is None or (now or timezone.now()) >= reveal_at
