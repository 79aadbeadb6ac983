import datetime
import zoneinfo
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import signals


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone %(value)s."), params={"value": value}, code="invalid_time_zone")


def default_time_zone():
    return settings.TIME_ZONE


def normalize_origin(value: str) -> str:
    """One web origin as a CSP source: "https://www.cs.utexas.edu", IDN host in ASCII.

    Raises ValidationError for anything that is not scheme://host[:port]: the
    value goes into a response header, where a space, a quote or a semicolon
    would add a directive of the writer's choosing.
    """
    text = value.strip()
    invalid = ValidationError(
        _("“%(value)s” is not a web origin. Write it as https://www.example.edu (scheme and host, no path)."),
        params={"value": text},
        code="invalid_origin",
    )
    if not text or any(char.isspace() or char in "'\";,*" for char in text):
        raise invalid
    try:
        parts = urlsplit(text)
        port = parts.port
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host.encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        raise invalid from None
    if (
        parts.scheme not in ("https", "http")
        or not host
        or parts.username is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise invalid
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def validate_origins(value: str) -> None:
    for line in value.splitlines():
        if line.strip():
            normalize_origin(line)


def _is_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and (user.is_staff or user.is_superuser))


def scope_to_series(queryset, user, *, series_path: str, roles=None):
    """`queryset` narrowed to the objects of the series `user` works for in one of `roles`.

    The one scoping rule of the staff side: superusers see everything; other
    active staff see the objects whose series (reached through `series_path`,
    e.g. "event__series"; "" for a queryset of series) lists them as a team
    member with one of `roles` (default: organizer); everybody else sees nothing.
    """
    if not _is_staff(user):
        return queryset.none()
    if user.is_superuser:
        return queryset
    roles = roles or (SeriesMember.Role.ORGANIZER,)
    series_ids = SeriesMember.objects.filter(user=user, role__in=roles).values("series_id")
    return queryset.filter(**{f"{series_path}__in" if series_path else "pk__in": series_ids})


WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class SeriesQuerySet(models.QuerySet):
    def managed_by(self, user, *, roles=None):
        """Series `user` may run (see `scope_to_series`)."""
        return scope_to_series(self, user, series_path="", roles=roles)


class Series(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    organizer_name = models.CharField(_("organizer name"), max_length=200)
    organizer_email = models.EmailField(_("organizer email"))
    embed_origins = models.TextField(
        _("sites that may embed the listing"),
        blank=True,
        validators=[validate_origins],
        help_text=_(
            "One web address per line, e.g. https://www.cs.utexas.edu. Only these sites may show this "
            "series' talks in a frame; the script snippet works anywhere."
        ),
    )
    # The default schedule: what a new talk of the series starts with (events.schedule).
    default_weekday = models.PositiveSmallIntegerField(
        _("weekday"), choices=WEEKDAYS, null=True, blank=True, help_text=_("Empty: no regular day.")
    )
    default_start_time = models.TimeField(
        _("start time"), null=True, blank=True, help_text=_("Local time at the default venue, e.g. 11:00.")
    )
    default_duration_minutes = models.PositiveIntegerField(_("length in minutes"), default=60)
    default_venue = models.ForeignKey(
        "Venue", models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("venue")
    )
    default_capacity = models.PositiveIntegerField(
        _("capacity"), null=True, blank=True, help_text=_("Empty: the venue's capacity.")
    )
    registration_opens_days_before = models.PositiveIntegerField(
        _("registration opens (days before the talk)"),
        null=True,
        blank=True,
        help_text=_("Empty: registration opens as soon as the talk is published."),
    )
    # When followers who asked for it get the week's talks (in the series' time zone).
    digest_weekday = models.PositiveSmallIntegerField(
        _("digest weekday"), choices=WEEKDAYS, null=True, blank=True, help_text=_("Empty: no weekly digest.")
    )
    digest_time = models.TimeField(
        _("digest time"),
        null=True,
        blank=True,
        help_text=_("Local time of the default venue, e.g. 08:00. Sent only when the coming week has talks."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = SeriesQuerySet.as_manager()

    class Meta:
        verbose_name = _("series")
        verbose_name_plural = _("series")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(default_weekday__isnull=True) | Q(default_weekday__lte=6), name="series_weekday_valid"
            ),
            models.CheckConstraint(
                condition=Q(digest_weekday__isnull=True) | Q(digest_weekday__lte=6),
                name="series_digest_weekday_valid",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("events:series_detail", kwargs={"slug": self.slug})

    def clean(self):
        # Stored normalized, so the admin shows what the header will say.
        try:
            origins = [normalize_origin(line) for line in self.embed_origins.splitlines() if line.strip()]
        except ValidationError:
            return  # the field's validator reports it
        self.embed_origins = "\n".join(dict.fromkeys(origins))

    @property
    def local_time_zone(self) -> zoneinfo.ZoneInfo:
        """The series' wall clock: its default venue's time zone, else the site's."""
        venue = self.default_venue
        return zoneinfo.ZoneInfo(venue.time_zone if venue else settings.TIME_ZONE)

    @property
    def has_digest(self) -> bool:
        return self.digest_weekday is not None and self.digest_time is not None

    @property
    def embed_origin_list(self) -> list[str]:
        """The origins allowed to frame this series' listing, as CSP sources; a line that is not one is left out."""
        origins = []
        for line in self.embed_origins.splitlines():
            try:
                origins.append(normalize_origin(line))
            except ValidationError:
                continue
        return list(dict.fromkeys(origins))


class SeriesMember(models.Model):
    """One person on a series' team, in one role. Staff see only their series' talks and registrations."""

    class Role(models.TextChoices):
        ORGANIZER = "organizer", _("Organizer")
        DOOR = "door", _("Door staff (check-in only)")

    # The permissions of each role come from the group of that name (created by migrations).
    ROLE_GROUPS = {Role.ORGANIZER: "Organizers", Role.DOOR: "Door staff"}

    series = models.ForeignKey(Series, models.CASCADE, related_name="members", verbose_name=_("series"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="series_memberships", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role, default=Role.ORGANIZER)

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team")
        ordering = ["series", "role", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "user"],
                name="seriesmember_one_role_per_series",
                violation_error_message=_("This person is already on the team of this series."),
            ),
            models.CheckConstraint(condition=Q(role__in=["organizer", "door"]), name="seriesmember_role_valid"),
        ]

    def __str__(self):
        return f"{self.user} ({self.get_role_display()}, {self.series})"

    def get_absolute_url(self):
        return self.series.get_absolute_url()

    def save(self, *args, **kwargs):
        # Setting a role in the admin is one step: the person can then sign in
        # and holds the permissions of the role's group.
        super().save(*args, **kwargs)
        group, _created = Group.objects.get_or_create(name=self.ROLE_GROUPS[self.role])
        self.user.groups.add(group)
        if not self.user.is_staff:
            type(self.user).objects.filter(pk=self.user.pk).update(is_staff=True)
            self.user.is_staff = True


class SpeakerQuerySet(models.QuerySet):
    def managed_by(self, user):
        """Speakers a staff user may see: on no talk yet, on a public talk, or on a talk of their series.

        Speakers are shared between series, but one announced only in another
        series' draft is that series' secret.
        """
        if not _is_staff(user):
            return self.none()
        if user.is_superuser:
            return self
        talks = Event.objects.filter(speakers=OuterRef("pk"))
        return self.filter(~Exists(talks) | Exists(talks.filter(Q(_PUBLIC) | Q(pk__in=Event.objects.managed_by(user)))))


class SpeakerPhoto(models.Model):
    """A speaker's photo as the site serves it: a small JPEG with no metadata, kept in the database.

    In the database so that every web host serves it without a shared disk;
    named by the SHA-256 of its bytes, so its URL never changes meaning and
    browsers and proxies may keep it forever.
    """

    digest = models.CharField(_("SHA-256"), max_length=64, primary_key=True)
    data = models.BinaryField(_("JPEG bytes"))
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    CONTENT_TYPE = "image/jpeg"

    class Meta:
        verbose_name = _("speaker photo")
        verbose_name_plural = _("speaker photos")
        constraints = [
            models.CheckConstraint(condition=Q(digest__regex=r"^[0-9a-f]{64}$"), name="speakerphoto_digest_hex"),
        ]

    def __str__(self):
        return f"{self.digest[:12]} ({self.width}×{self.height})"

    def get_absolute_url(self):
        return photo_path(self.digest)


def photo_path(digest: str) -> str:
    return reverse("events:speaker_photo", kwargs={"digest": digest})


class Speaker(models.Model):
    name = models.CharField(_("name"), max_length=200)
    affiliation = models.CharField(_("affiliation"), max_length=200, blank=True)
    position = models.CharField(_("position"), max_length=200, blank=True, help_text=_("e.g. Associate Professor"))
    bio = models.TextField(_("bio"), blank=True)
    photo_url = models.URLField(_("photo URL"), blank=True)
    # An uploaded photo, shown instead of photo_url; its id is the digest, so
    # showing it needs no join.
    photo = models.ForeignKey(
        SpeakerPhoto,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded photo"),
        help_text=_("Uploaded by the speaker; shown instead of the photo URL."),
    )
    website = models.URLField(_("website"), blank=True)

    objects = SpeakerQuerySet.as_manager()

    class Meta:
        verbose_name = _("speaker")
        verbose_name_plural = _("speakers")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.affiliation})" if self.affiliation else self.name

    @property
    def photo_src(self) -> str:
        """Where the speaker's photo is: the uploaded one (a path on this site), else photo_url, else ""."""
        return photo_path(self.photo_id) if self.photo_id else self.photo_url

    @property
    def photo_absolute_url(self) -> str:
        """photo_src as a full URL, for other sites (previews, the JSON listing)."""
        src = self.photo_src
        return settings.SITE_URL + src if src.startswith("/") else src


class Venue(models.Model):
    room = models.CharField(_("room"), max_length=100, help_text=_("e.g. GDC 6.302"))
    building = models.CharField(_("building"), max_length=200, blank=True, help_text=_("e.g. Gates Dell Complex"))
    address = models.CharField(_("address"), max_length=300, blank=True)
    default_capacity = models.PositiveIntegerField(_("default capacity"))
    map_url = models.URLField(_("map link"), blank=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=default_time_zone, validators=[validate_time_zone]
    )

    class Meta:
        verbose_name = _("venue")
        verbose_name_plural = _("venues")
        ordering = ["room"]
        constraints = [
            models.UniqueConstraint(fields=["room", "building"], name="venue_unique_room_building"),
        ]

    def __str__(self):
        return f"{self.room}, {self.building}" if self.building else self.room

    def save(self, *args, **kwargs):
        moved = (
            self.pk is not None
            and Venue.objects.filter(pk=self.pk)
            .exclude(room=self.room, building=self.building, address=self.address)
            .exists()
        )
        super().save(*args, **kwargs)
        if moved:
            # A renamed room moves every talk booked in it, as far as calendars know.
            for event in self.events.published().upcoming().select_related("venue"):
                event.venue_changed()


# Talks the public may see: published or cancelled (a cancelled talk keeps its page).
_PUBLIC = Q(status__in=["published", "cancelled"])


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
        if not _is_staff(user):
            return self.published()
        return self.filter(_PUBLIC | Q(series__in=Series.objects.managed_by(user)))

    def upcoming(self, now=None):
        return self.filter(end__gt=now or timezone.now()).order_by("start", "pk")

    def past(self, now=None):
        return self.filter(end__lte=now or timezone.now()).order_by("-start", "-pk")

    def with_related(self):
        return self.select_related("series", "venue").prefetch_related("speakers")

    def next_change(self, now=None):
        """The first start or end of these talks after `now`: when a list of them changes by itself (or None)."""
        now = now or timezone.now()
        found = self.aggregate(
            start=models.Min("start", filter=Q(start__gt=now)), end=models.Min("end", filter=Q(end__gt=now))
        )
        return min((moment for moment in found.values() if moment), default=None)


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
    speakers = models.ManyToManyField(Speaker, related_name="events", verbose_name=_("speakers"), blank=True)
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
    seats_taken = models.PositiveIntegerField(_("seats taken"), default=0, editable=False)
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
    online_seats_taken = models.PositiveIntegerField(_("online places taken"), default=0, editable=False)
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
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.DRAFT)
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
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
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
    # False: this save's time or place change is not announced
    # (event_rescheduled); the caller decides whether registrants hear of it.
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
        if old_status == self.Status.CANCELLED and self.status == self.Status.PUBLISHED:
            changed.add("status")
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
        became_public = self.status == self.Status.PUBLISHED and (
            self._state.adding or loaded.get("status", self.status) == self.Status.DRAFT
        )
        previous_url = loaded.get("stream_url", self.stream_url)
        stream_changed = not self._state.adding and previous_url != self.stream_url and bool(self.stream_url)
        if changed or became_cancelled:
            self.sequence += 1
            extra_fields = {"sequence"}
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
        if became_cancelled:
            self._announce(signals.event_cancelled)
        elif changed and self.status == self.Status.PUBLISHED and self.announce_changes:
            self._announce(signals.event_rescheduled, changed_fields=changed)
        if stream_changed and self.status == self.Status.PUBLISHED and self.has_online:
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


class QuestionQuerySet(models.QuerySet):
    def copy_to(self, event: Event) -> list["Question"]:
        """Give `event` a copy of these questions (a duplicated talk asks the same)."""
        return Question.objects.bulk_create(
            Question(
                event=event,
                label=question.label,
                help_text=question.help_text,
                kind=question.kind,
                choices=question.choices,
                required=question.required,
                position=question.position,
            )
            for question in self.order_by("position", "pk")
        )


class Question(models.Model):
    """One more thing the registration form of a talk asks, e.g. "Dietary restrictions for lunch?"."""

    class Kind(models.TextChoices):
        SHORT_TEXT = "short_text", _("Short text")
        LONG_TEXT = "long_text", _("Long text")
        SINGLE_CHOICE = "single_choice", _("Single choice")
        MULTIPLE_CHOICE = "multiple_choice", _("Multiple choice")
        YES_NO = "yes_no", _("Yes or no")

    CHOICE_KINDS = (Kind.SINGLE_CHOICE, Kind.MULTIPLE_CHOICE)
    MAX_CHOICE_LENGTH = 200

    event = models.ForeignKey(Event, models.CASCADE, related_name="questions", verbose_name=_("event"))
    label = models.CharField(_("question"), max_length=300)
    help_text = models.CharField(_("help text"), max_length=500, blank=True, help_text=_("Shown under the question."))
    kind = models.CharField(_("kind of answer"), max_length=20, choices=Kind, default=Kind.SHORT_TEXT)
    choices = models.TextField(
        _("choices"), blank=True, help_text=_("For single and multiple choice: one choice per line.")
    )
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveIntegerField(_("position"), default=0, help_text=_("Lower numbers come first."))

    objects = QuestionQuerySet.as_manager()

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["event", "position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["short_text", "long_text", "single_choice", "multiple_choice", "yes_no"]),
                name="question_kind_valid",
            ),
        ]

    def __str__(self):
        return self.label

    def get_absolute_url(self):
        return self.event.get_absolute_url() + "#register"

    def clean(self):
        lines = self.choice_list
        if self.kind in self.CHOICE_KINDS:
            if len(lines) < 2:
                raise ValidationError(
                    {"choices": _("Give at least two choices, one per line.")}, code="too_few_choices"
                )
            if any(len(line) > self.MAX_CHOICE_LENGTH for line in lines):
                raise ValidationError(
                    {"choices": _("Keep each choice under %(max)s characters.") % {"max": self.MAX_CHOICE_LENGTH}},
                    code="choice_too_long",
                )
            # Stored tidy: one choice per line, each once, in the organizer's order.
            self.choices = "\n".join(lines)
        elif lines:
            raise ValidationError(
                {"choices": _("Only single and multiple choice questions have choices.")}, code="choices_not_used"
            )

    @property
    def choice_list(self) -> list[str]:
        seen = []
        for line in self.choices.splitlines():
            line = " ".join(line.split())
            if line and line not in seen:
                seen.append(line)
        return seen
