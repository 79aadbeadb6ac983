import secrets
import unicodedata

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, Count, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Lower
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from events.models import Event, Question, scope_to_series
from outbox.models import OutgoingMail

from .search import SearchKeyField, search_condition

MANAGE_LINK_SALT = "registrations.manage"
# A second token for the same key: it downloads the registrant's invite and
# can do nothing else (the calendar link travels further than the manage link).
INVITE_LINK_SALT = "registrations.invite"
# A third token for the same key: shown as the ticket's QR code, it lets signed-in
# door staff check the person in and does nothing else (a ticket is seen by many).
CHECKIN_LINK_SALT = "registrations.checkin"
# The button in a held seat's (or offered seat's) email: it makes the kept seat the
# person's own and does nothing else. Only the emailed link carries it: the page a
# sign-up lands on never shows it, so a script that registers cannot confirm.
KEEP_SEAT_LINK_SALT = "registrations.keep_seat"
# "Can't come? Free your seat": gives the seat up (or passes an offered seat on), nothing else.
FREE_SEAT_LINK_SALT = "registrations.free_seat"


# Line and paragraph separators break headers and CSV rows just like CR/LF.
_MULTI_LINE_CATEGORIES = {"Cc", "Zl", "Zp"}
# The explicit embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): one at the start of a
# name turns the text after it around on every page and in every message that shows the name. The
# marks U+200E and U+200F stay allowed: right-to-left names written correctly use them.
_DIRECTION_CONTROLS = frozenset(map(chr, (*range(0x202A, 0x202F), *range(0x2066, 0x206A))))


def new_key():
    return secrets.token_urlsafe(24)


def validate_single_line(value: str) -> None:
    """Names end up in email headers, invites, CSV rows and pages: one line of text, no direction overrides."""
    if any(unicodedata.category(char) in _MULTI_LINE_CATEGORIES or char in _DIRECTION_CONTROLS for char in value):
        raise ValidationError(
            _("Please write this on one line, without line breaks or control characters."), code="control_characters"
        )


# Who attended a talk: checked in at the door of the room, or confirmed to attend online (only the room has a door).
ATTENDED_IN_THE_ROOM = Q(status="confirmed", attendance="in_person", checked_in_at__isnull=False)
ATTENDED_ONLINE = Q(status="confirmed", attendance="online")


class RegistrationQuerySet(models.QuerySet):
    def managed_by(self, user, *, roles=None):
        """Registrations for talks of the series `user` may run (see `events.models.scope_to_series`)."""
        return scope_to_series(self, user, series_path="event__series", roles=roles)

    def active(self):
        return self.exclude(status=Registration.Status.CANCELLED)

    def confirmed(self):
        return self.filter(status=Registration.Status.CONFIRMED)

    def held(self):
        """Seats kept for someone until they confirm by email (or take an offered seat)."""
        return self.filter(status=Registration.Status.HELD)

    def with_place(self):
        """Registrations that take a place: confirmed or held (what `Event.seats_taken` counts)."""
        return self.filter(status__in=Registration.PLACE_STATUSES)

    def waitlisted(self):
        return self.filter(status=Registration.Status.WAITLISTED)

    def awaiting_confirmation(self):
        """Held seats and waiting-list places kept only until their person confirms by email."""
        return self.filter(hold_until__isnull=False)

    def expired_holds(self, now):
        """Holds whose time to confirm has run out at `now`: the sweeper releases them."""
        return self.filter(hold_until__lte=now)

    def matching(self, query: str):
        """Registrations whose name or email holds every word of `query` (any case, any accent); all for no words."""
        return self.filter(search_condition(query))

    def attended(self):
        """Who attended: checked in in the room, or attending online with a place."""
        return self.filter(ATTENDED_IN_THE_ROOM | ATTENDED_ONLINE)

    def in_person(self):
        return self.filter(attendance=Registration.Attendance.IN_PERSON)

    def online(self):
        return self.filter(attendance=Registration.Attendance.ONLINE)

    def waitlist_order(self):
        """The waiting list, first come first served."""
        return self.waitlisted().order_by("created_at", "pk")

    def with_waitlist_position(self):
        """Annotate `waitlist_place`, the 1-based place on its waiting list (None unless waitlisted), in one query.

        In person and online attendance have a waiting list each."""
        ahead = (
            Registration.objects.waitlisted()
            .filter(event=OuterRef("event"), attendance=OuterRef("attendance"))
            .filter(
                Q(created_at__lt=OuterRef("created_at")) | Q(created_at=OuterRef("created_at"), pk__lt=OuterRef("pk"))
            )
            .order_by()
            .values("event")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return self.annotate(
            waitlist_place=Case(
                When(status=Registration.Status.WAITLISTED, then=Coalesce(Subquery(ahead), Value(0)) + 1),
                output_field=IntegerField(),
            )
        )

    def from_token(self, token, *, salt=MANAGE_LINK_SALT):
        """The registration a signed self-service token points to, or DoesNotExist."""
        try:
            key = signing.Signer(salt=salt).unsign(token)
        except signing.BadSignature:
            raise self.model.DoesNotExist("Invalid registration token.") from None
        return self.get(key=key)


def place_counts(prefix: str = "registrations__") -> dict[str, Count]:
    """Annotations for talks: `confirmed_count`, `held_count` and `waitlisted_count` in one query.

    `Event.seats_taken` counts confirmed and held seats together; these tell them apart.
    """
    status = f"{prefix}status"
    path = prefix.removesuffix("__") or "pk"
    return {
        f"{name}_count": Count(path, filter=Q(**{status: value}))
        for name, value in (("confirmed", "confirmed"), ("held", "held"), ("waitlisted", "waitlisted"))
    }


# Why a person is asked to confirm, as their email and their page say it.
HOLD_EXPLANATIONS = {
    "address": _(
        "Many people are signing up from the same network as you right now, so each seat is kept until its "
        "person confirms it from their own mailbox."
    ),
    "demand": _("Seats for this talk are going fast, so each new one is kept until its person confirms it by email."),
    "confirm_by_email": _("The organizers ask everyone who registers to confirm by email."),
    "offer": _("A seat opened up shortly before the talk: it is yours if you take it."),
}


class Registration(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        # A seat kept for the person, counted against capacity, until they press the
        # button in their email by `hold_until` (see services/holds.py).
        HELD = "held", _("Held until confirmed")
        WAITLISTED = "waitlisted", _("Waiting list")
        CANCELLED = "cancelled", _("Cancelled")

    class HoldReason(models.TextChoices):
        """Why a sign-up must confirm by email before its place is its own."""

        ADDRESS = "address", _("Many sign-ups from one network address")
        DEMAND = "demand", _("Seats going fast")
        CONFIRM_BY_EMAIL = "confirm_by_email", _("The organizers ask everyone to confirm by email")
        OFFER = "offer", _("Seat offered shortly before the talk")

    class Attendance(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        ONLINE = "online", _("Online")

    class Position(models.TextChoices):
        STUDENT = "student", _("Student")
        POSTDOC = "postdoc", _("Postdoc")
        FACULTY = "faculty", _("Faculty")
        STAFF = "staff", _("Staff")
        INDUSTRY = "industry", _("Industry")
        OTHER = "other", _("Other")

    # The statuses that take a place of the talk (counted in Event.seats_taken / online_seats_taken).
    PLACE_STATUSES = (Status.CONFIRMED, Status.HELD)

    event = models.ForeignKey(Event, models.CASCADE, related_name="registrations", verbose_name=_("talk"))
    name = models.CharField(_("name"), max_length=200, validators=[validate_single_line])
    email = models.EmailField(_("email"), max_length=254)
    affiliation = models.CharField(_("affiliation"), max_length=200, blank=True, validators=[validate_single_line])
    position = models.CharField(_("position"), max_length=20, choices=Position, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status)
    # Set while the place is kept only until the person confirms by email: on a
    # held seat, or on a waiting-list place of someone who must confirm too.
    # Cleared when they confirm; the sweeper releases the place once it passes.
    hold_until = models.DateTimeField(_("to confirm by"), null=True, blank=True, editable=False)
    # Why they were (or are) asked to confirm; kept after they confirmed, for the numbers.
    hold_reason = models.CharField(_("asked to confirm because"), max_length=20, choices=HoldReason, blank=True)
    attendance = models.CharField(_("attends"), max_length=20, choices=Attendance, default=Attendance.IN_PERSON)
    key = models.CharField(max_length=64, unique=True, default=new_key, editable=False)
    created_at = models.DateTimeField(_("registered"), auto_now_add=True, db_index=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    # Set by "mark the rest as no-shows" after a talk; cleared by a late check-in.
    no_show_at = models.DateTimeField(_("marked as no-show"), null=True, blank=True, editable=False)
    email_bounced_at = models.DateTimeField(_("email bounced"), null=True, blank=True)
    # Set by services.erase_personal_data: the row stays (seat counts and
    # history remain true) but no longer says who registered.
    erased_at = models.DateTimeField(_("personal data erased"), null=True, blank=True, editable=False)
    # Name and email folded for the door's search (registrations.search); personal data like them.
    search_key = SearchKeyField(_("search key"))
    # iCalendar SEQUENCE of this registrant's invite: raised with every invite
    # or cancellation we send, so clients always apply the newest one.
    invite_sequence = models.PositiveIntegerField(_("invite sequence"), default=0, editable=False)
    # The language the registrant used the site in when registering: every
    # message to them is written in it, whoever causes it (seminar_site.i18n).
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE, editable=False
    )
    outgoing_mails = GenericRelation(
        OutgoingMail, content_type_field="about_type", object_id_field="about_id", related_query_name="registration"
    )

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["event", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                "event",
                Lower("email"),
                condition=~Q(status="cancelled"),
                name="registration_one_active_per_email",
                violation_error_message="This email address is already registered for this talk.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["confirmed", "held", "waitlisted", "cancelled"]),
                name="registration_status_valid",
            ),
            # A held seat always has its deadline; only a held seat or a waiting-list place has one.
            models.CheckConstraint(
                condition=Q(status="held", hold_until__isnull=False)
                | Q(status="waitlisted")
                | Q(status__in=["confirmed", "cancelled"], hold_until__isnull=True),
                name="registration_hold_until_with_status",
            ),
            models.CheckConstraint(
                condition=Q(hold_until__isnull=True) | ~Q(hold_reason=""),
                name="registration_hold_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(hold_reason__in=["", "address", "demand", "confirm_by_email", "offer"]),
                name="registration_hold_reason_valid",
            ),
            models.CheckConstraint(
                condition=Q(attendance__in=["in_person", "online"]), name="registration_attendance_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="cancelled") | Q(cancelled_at__isnull=True),
                name="registration_cancelled_at_only_when_cancelled",
            ),
        ]
        indexes = [
            models.Index(fields=["event", "status", "created_at"]),
            # The sweeper's question, every minute: which holds have run out?
            models.Index(fields=["hold_until"], condition=Q(hold_until__isnull=False), name="registration_holds"),
        ]
        permissions = [("check_in_registration", _("Can check people in at the door"))]

    def __str__(self):
        return f"{self.name} – {self.event}"

    def get_absolute_url(self):
        return reverse("registrations:manage", kwargs={"token": self.token})

    def save(self, *args, **kwargs):
        # Stored trimmed so that the case-insensitive constraint on the
        # address also treats "ana@ut.edu " as "Ana@UT.edu".
        self.email = (self.email or "").strip()
        super().save(*args, **kwargs)

    @property
    def token(self):
        return signing.Signer(salt=MANAGE_LINK_SALT).sign(self.key)

    @property
    def invite_token(self):
        return signing.Signer(salt=INVITE_LINK_SALT).sign(self.key)

    @property
    def checkin_token(self):
        return signing.Signer(salt=CHECKIN_LINK_SALT).sign(self.key)

    @property
    def keep_seat_url(self):
        """The emailed button that confirms a held seat or waiting-list place, or takes an offered seat."""
        token = signing.Signer(salt=KEEP_SEAT_LINK_SALT).sign(self.key)
        return settings.SITE_URL + reverse("registrations:keep_seat", kwargs={"token": token})

    @property
    def free_seat_url(self):
        """The emailed link that gives the seat up for the next person waiting (a page that asks first)."""
        token = signing.Signer(salt=FREE_SEAT_LINK_SALT).sign(self.key)
        return settings.SITE_URL + reverse("registrations:free_seat", kwargs={"token": token})

    @property
    def checkin_url(self):
        """The address in the ticket's QR code: door staff who open it can check this person in."""
        return settings.SITE_URL + reverse("checkin:scan", kwargs={"token": self.checkin_token})

    @property
    def invite_url(self):
        """The registrant's own calendar entry as a file (same UID and SEQUENCE as the emailed invite)."""
        return settings.SITE_URL + reverse("registrations:invite_ics", kwargs={"token": self.invite_token})

    @property
    def is_active(self):
        return self.status != self.Status.CANCELLED

    @property
    def is_online(self):
        return self.attendance == self.Attendance.ONLINE

    @property
    def has_place(self) -> bool:
        """Confirmed or held: the registration takes a seat (or online place) of the talk."""
        return self.status in self.PLACE_STATUSES

    @property
    def awaits_confirmation(self) -> bool:
        return self.hold_until is not None

    @property
    def hold_explanation(self) -> str:
        return str(HOLD_EXPLANATIONS.get(self.hold_reason, ""))

    @property
    def is_offer(self) -> bool:
        return self.status == self.Status.HELD and self.hold_reason == self.HoldReason.OFFER

    @property
    def has_ticket(self) -> bool:
        """A check-in code goes with a confirmed seat in the room; online places are checked in nowhere."""
        return self.status == self.Status.CONFIRMED and not self.is_online

    def sees_stream(self, now=None) -> bool:
        """Whether this registrant may see the talk's stream link now: attending online, with a place."""
        return self.is_online and self.status == self.Status.CONFIRMED and self.event.stream_revealed(now)

    @property
    def manage_url(self):
        return settings.SITE_URL + self.get_absolute_url()

    @cached_property
    def someone_waits(self) -> bool:
        """Whether anyone else is on this talk's waiting list for this way of attending: the one a freed place goes to.

        One query per instance, however many sentences of a page ask (the registrant's page may ask twice).
        """
        return (
            Registration.objects.waitlisted()
            .filter(event_id=self.event_id, attendance=self.attendance)
            .exclude(pk=self.pk)
            .exists()
        )

    def waitlist_position(self):
        """1-based place on the waiting list, derived from order of arrival."""
        if self.status != self.Status.WAITLISTED:
            return None
        return (
            Registration.objects.filter(pk=self.pk)
            .with_waitlist_position()
            .values_list("waitlist_place", flat=True)
            .get()
        )


class Answer(models.Model):
    """A registrant's answer to one of the talk's questions.

    `value` holds the text typed, the choice picked, "yes" or "no", or for
    multiple choice the picked choices one per line (choices never hold a line break).
    """

    YES, NO = "yes", "no"

    registration = models.ForeignKey(
        Registration, models.CASCADE, related_name="answers", verbose_name=_("registration")
    )
    # Protected: an organizer deleting a question must not silently lose what people answered.
    question = models.ForeignKey(Question, models.PROTECT, related_name="answers", verbose_name=_("question"))
    value = models.TextField(_("answer"), blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["registration", "question__position", "question__pk"]
        constraints = [
            models.UniqueConstraint(fields=["registration", "question"], name="answer_one_per_question"),
        ]

    def __str__(self):
        return f"{self.question}: {self.display_value}"

    def get_absolute_url(self):
        return self.registration.get_absolute_url()

    @property
    def display_value(self) -> str:
        if self.question.kind == Question.Kind.YES_NO:
            return str({self.YES: _("Yes"), self.NO: _("No")}.get(self.value, self.value))
        return "; ".join(self.value.splitlines()) if self.question.kind == Question.Kind.MULTIPLE_CHOICE else self.value


class RegistrationLog(models.Model):
    """One entry per state change of a registration: who, what, when."""

    class Action(models.TextChoices):
        REGISTERED = "registered", _("Registered (confirmed)")
        WAITLISTED = "waitlisted", _("Joined the waiting list")
        PROMOTED = "promoted", _("Promoted from the waiting list")
        CANCELLED = "cancelled", _("Cancelled")
        CHECKED_IN = "checked_in", _("Checked in")
        CHECK_IN_UNDONE = "check_in_undone", _("Check-in undone")
        WALK_IN = "walk_in", _("Registered at the door")
        NO_SHOW = "no_show", _("Marked as no-show")
        CONFIRMATION_RESENT = "confirmation_resent", _("Confirmation sent again")
        LINK_RESENT = "link_resent", _("Link sent again")
        UPDATE_SENT = "update_sent", _("Calendar update sent")
        EMAIL_BOUNCED = "email_bounced", _("Email bounced")
        EMAIL_FAILED = "email_failed", _("Email could not be delivered")
        ERASED = "erased", _("Personal data erased")
        SWITCHED = "switched", _("Switched between in person and online")
        HELD = "held", _("Seat held until confirmed by email")
        OFFERED = "offered", _("Offered a seat from the waiting list")
        HOLD_CONFIRMED = "hold_confirmed", _("Confirmed by email")
        HOLD_EXPIRED = "hold_expired", _("Not confirmed in time: released")
        TALK_CANCELLED = "talk_cancelled", _("Told the talk is cancelled")
        TALK_ON_AGAIN = "talk_on_again", _("Told the talk is on again")
        STREAM_LINK_SENT = "stream_link_sent", _("Link to join online sent")
        REMINDER_SENT = "reminder_sent", _("Reminder before the talk sent")

    registration = models.ForeignKey(Registration, models.CASCADE, related_name="log", verbose_name=_("registration"))
    action = models.CharField(_("action"), max_length=30, choices=Action)
    from_status = models.CharField(_("from"), max_length=20, choices=Registration.Status, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=Registration.Status, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Empty: the registrant or the system."),
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("history entry")
        verbose_name_plural = _("history")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.get_action_display()} ({self.created_at:%Y-%m-%d %H:%M})"


class MailKind(models.TextChoices):
    """The messages registrations sends through the outbox (registered in apps.py)."""

    CONFIRMATION = "registrations.confirmation", _("Confirmation")
    WAITLISTED = "registrations.waitlisted", _("Waiting list")
    PROMOTED = "registrations.promoted", _("Promoted from the waiting list")
    CANCELLATION = "registrations.cancellation", _("Cancellation acknowledged")
    EVENT_CHANGED = "registrations.event_changed", _("Talk changed")
    EVENT_CANCELLED = "registrations.event_cancelled", _("Talk cancelled")
    REMINDER = "registrations.reminder", _("Reminder")
    RESEND = "registrations.resend", _("Confirmation sent again")
    STREAM_LINK = "registrations.stream_link", _("Link to join online")
    HELD = "registrations.held", _("Confirm to keep your place")
    OFFER = "registrations.offer", _("Seat offered from the waiting list")
    PAST_TALKS = "registrations.past_talks", _("Links to past talks")
    ATTENDANCE_SWITCHED = "registrations.attendance_switched", _("Switched between in person and online")
    EVENT_REINSTATED = "registrations.event_reinstated", _("Talk on again")
