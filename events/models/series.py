"""Series and their teams: the default schedule, the sites that may embed a listing, who may run what."""

import zoneinfo
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


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
    confirm_by_email = models.BooleanField(
        _("confirm by email"),
        default=False,
        help_text=_(
            "Every sign-up for the series' talks keeps its seat only once the person presses the button in "
            "our email (within the hold time); a seat not confirmed goes to the waiting list."
        ),
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
    # Read by the feedback app, which emails attendees FEEDBACK_AFTER hours after each talk.
    ask_for_feedback = models.BooleanField(
        _("ask attendees for feedback"),
        default=True,
        help_text=_(
            "A few hours after each talk, everyone who attended (in the room or online) gets one email asking "
            "them to rate it from 1 to 5, with an optional comment. Organizers see the answers without names."
        ),
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
            # The user model, not type(self.user): a view may pass request.user, a lazy object.
            self._meta.get_field("user").related_model._default_manager.filter(pk=self.user_id).update(is_staff=True)
            self.user.is_staff = True
