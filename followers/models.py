"""Who follows a series, and each announcement or digest sent to them."""

import secrets

from django.core import signing
from django.db import models
from django.db.models import Count, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from events.models import Event, Series, scope_to_series

CONFIRM_SALT = "followers.confirm"
UNSUBSCRIBE_SALT = "followers.unsubscribe"
# A third token for the same key, in every announcement and digest: it opens the page where a
# confirmed follower changes what they get, and does nothing else (stopping is the unsubscribe
# link's; confirming an address, the confirmation link's). It does not expire, like a
# registrant's own link and the unsubscribe link beside it: last month's digest must still lead
# there, and the follow ending (unsubscribed, or erased: a new key) is what ends it.
MANAGE_SALT = "followers.manage"


def new_key() -> str:
    return secrets.token_urlsafe(24)


class FollowerQuerySet(models.QuerySet):
    def managed_by(self, user, *, roles=None):
        return scope_to_series(self, user, series_path="series", roles=roles)

    def active(self):
        """Not unsubscribed (nor erased): confirmed or still waiting for the confirmation."""
        return self.filter(unsubscribed_at__isnull=True, erased_at__isnull=True)

    def confirmed(self):
        """Followers who confirmed their address and still follow: the only ones who get announcements or digests."""
        return self.active().filter(confirmed_at__isnull=False)

    def wanting(self, kind: str):
        """Confirmed followers who asked for `kind` (Dispatch.Kind)."""
        field = "wants_announcements" if kind == Dispatch.Kind.ANNOUNCEMENT else "wants_digest"
        return self.confirmed().filter(**{field: True})

    def with_address(self, email: str):
        return self.annotate(email_lower=Lower("email")).filter(email_lower=email.strip().lower())

    def from_token(self, token: str, *, salt: str, max_age=None):
        """The follower a signed link points to, or DoesNotExist (tampered, expired, or erased)."""
        try:
            if max_age is None:
                key = signing.Signer(salt=salt).unsign(token)
            else:
                key = signing.TimestampSigner(salt=salt).unsign(token, max_age=max_age)
        except signing.BadSignature:
            raise self.model.DoesNotExist("Invalid or expired follower link.") from None
        return self.filter(erased_at__isnull=True).get(key=key)


class SeriesFollowing(Series):
    """A series seen from its followers' side: counts only (the admin's "Followers" page)."""

    class Meta:
        proxy = True
        verbose_name = _("followers of a series")
        verbose_name_plural = _("followers")


def follower_counts(series_queryset):
    """`series_queryset` annotated with how many follow it, by what they get; never who."""
    confirmed = Q(
        followers__confirmed_at__isnull=False,
        followers__unsubscribed_at__isnull=True,
        followers__erased_at__isnull=True,
    )
    return series_queryset.annotate(
        confirmed_count=Count("followers", filter=confirmed, distinct=True),
        announcement_count=Count("followers", filter=confirmed & Q(followers__wants_announcements=True), distinct=True),
        digest_count=Count("followers", filter=confirmed & Q(followers__wants_digest=True), distinct=True),
        unconfirmed_count=Count(
            "followers",
            filter=Q(
                followers__confirmed_at__isnull=True,
                followers__unsubscribed_at__isnull=True,
                followers__erased_at__isnull=True,
            ),
            distinct=True,
        ),
        unsubscribed_count=Count("followers", filter=Q(followers__unsubscribed_at__isnull=False), distinct=True),
    )


class Follower(models.Model):
    """One address following one series: nothing goes to it but the confirmation until it is confirmed."""

    class Stop(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        BOUNCED = "bounced", _("Mail bounced")
        COMPLAINED = "complained", _("Marked as spam")

    series = models.ForeignKey(Series, models.CASCADE, related_name="followers", verbose_name=_("series"))
    # Empty once erased (see `manage.py erase_old_followers`).
    email = models.EmailField(_("email"), max_length=254, blank=True)
    # What the signed links carry; never shown.
    key = models.CharField(max_length=64, unique=True, default=new_key, editable=False)
    wants_announcements = models.BooleanField(_("an email for each new talk"), default=True)
    wants_digest = models.BooleanField(_("a weekly digest"), default=True)
    # The page's language when they asked: their emails are written in it.
    language = models.CharField(_("language"), max_length=16, blank=True, editable=False)
    created_at = models.DateTimeField(_("asked"), auto_now_add=True)
    confirmation_sent_at = models.DateTimeField(_("confirmation sent"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("stopped"), null=True, blank=True)
    stopped_because = models.CharField(_("stopped because"), max_length=20, choices=Stop, blank=True)
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True)

    objects = FollowerQuerySet.as_manager()

    class Meta:
        verbose_name = _("follower")
        verbose_name_plural = _("followers")
        ordering = ["series", "pk"]
        constraints = [
            # One current follow per address and series; after unsubscribing a new one starts afresh.
            models.UniqueConstraint(
                Lower("email"),
                "series",
                condition=Q(unsubscribed_at__isnull=True, erased_at__isnull=True),
                name="follower_one_current_per_address",
            ),
            models.CheckConstraint(
                condition=Q(wants_announcements=True) | Q(wants_digest=True), name="follower_wants_something"
            ),
            models.CheckConstraint(
                condition=Q(stopped_because__in=["", "unsubscribed", "bounced", "complained"]),
                name="follower_stop_valid",
            ),
        ]

    def __str__(self):
        # Never the address: staff pages that name a follower show the series only.
        return _("A follower of %(series)s") % {"series": self.series}

    def get_absolute_url(self):
        return self.series.get_absolute_url()

    @property
    def confirm_token(self) -> str:
        return signing.TimestampSigner(salt=CONFIRM_SALT).sign(self.key)

    @property
    def unsubscribe_token(self) -> str:
        return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(self.key)

    @property
    def manage_token(self) -> str:
        return signing.Signer(salt=MANAGE_SALT).sign(self.key)

    @property
    def confirm_path(self) -> str:
        return reverse("followers:confirm", kwargs={"token": self.confirm_token})

    @property
    def unsubscribe_path(self) -> str:
        return reverse("followers:unsubscribe", kwargs={"token": self.unsubscribe_token})

    @property
    def manage_path(self) -> str:
        return reverse("followers:manage", kwargs={"token": self.manage_token})

    @property
    def is_current(self) -> bool:
        return self.unsubscribed_at is None and self.erased_at is None

    def wants(self, kind: str) -> bool:
        return self.wants_announcements if kind == Dispatch.Kind.ANNOUNCEMENT else self.wants_digest


class DispatchQuerySet(models.QuerySet):
    def managed_by(self, user, *, roles=None):
        return scope_to_series(self, user, series_path="series", roles=roles)

    def unfinished(self):
        return self.filter(fanned_out_at__isnull=True)


class Dispatch(models.Model):
    """One announcement of a talk, or one week's digest of a series: sent to each follower once.

    Written in the transaction that causes it (the publish, the sweep that
    finds a digest due); its fan-out to the followers is queued work
    (tasks.fan_out), and the unique constraints make a second one impossible.
    """

    class Kind(models.TextChoices):
        ANNOUNCEMENT = "announcement", _("Announcement of a new talk")
        DIGEST = "digest", _("Weekly digest")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    series = models.ForeignKey(Series, models.CASCADE, related_name="+", verbose_name=_("series"))
    event = models.ForeignKey(
        Event, models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("talk announced")
    )
    # A digest: the moment it was due; it lists the talks of the 7 days from then.
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    fanned_out_at = models.DateTimeField(_("queued for the followers"), null=True, blank=True)
    recipient_count = models.PositiveIntegerField(_("recipients"), null=True, blank=True)

    objects = DispatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("announcement or digest")
        verbose_name_plural = _("announcements and digests")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event"], condition=Q(kind="announcement"), name="dispatch_one_announcement_per_talk"
            ),
            models.UniqueConstraint(
                fields=["series", "due_at"], condition=Q(kind="digest"), name="dispatch_one_digest_per_due_time"
            ),
            models.CheckConstraint(
                condition=(Q(kind="announcement") & Q(event__isnull=False))
                | (Q(kind="digest") & Q(due_at__isnull=False)),
                name="dispatch_kind_complete",
            ),
        ]

    def __str__(self):
        if self.kind == self.Kind.ANNOUNCEMENT:
            return _("Announcement of %(talk)s") % {"talk": self.event}
        return _("Digest of %(series)s, %(due)s") % {"series": self.series, "due": self.due_at}

    @property
    def once_key(self) -> str:
        """With the kind and the follower: one message per follower per dispatch, ever (the outbox's constraint)."""
        return f"dispatch:{self.pk}"
