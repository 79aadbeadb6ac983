"""What follows any change of a series' team, wherever it was made (team page, invitation, the admin's inline),
and every sign-in and sign-out: the log, and the sessions of someone taken off a team."""

from allauth.mfa import signals as mfa_signals
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from events.models import SeriesMember

from . import audit
from .services.sessions import SESSION_KEY, sign_out_everywhere, stored_generation
from .sessions import mark_seen, second_factor_state


@receiver(pre_save, sender=SeriesMember)
def remember_old_role(sender, instance, **kwargs):
    instance._staff_old_role = (
        SeriesMember.objects.filter(pk=instance.pk).values_list("role", flat=True).first() if instance.pk else None
    )


@receiver(post_save, sender=SeriesMember)
def log_team_change(sender, instance, created, **kwargs):
    if created:
        audit.record(
            audit.Kind.MEMBER_ADDED, user=instance.user, series=instance.series, detail=instance.get_role_display()
        )
    elif getattr(instance, "_staff_old_role", None) not in (None, instance.role):
        old = SeriesMember.Role(instance._staff_old_role).label
        audit.record(
            audit.Kind.ROLE_CHANGED,
            user=instance.user,
            series=instance.series,
            detail=f"{old} → {instance.get_role_display()}",
        )
        _drop_unused_groups(instance.user)


def _drop_unused_groups(user) -> None:
    roles = set(SeriesMember.objects.filter(user=user).values_list("role", flat=True))
    unused = [name for role, name in SeriesMember.ROLE_GROUPS.items() if role not in roles]
    user.groups.remove(*Group.objects.filter(name__in=unused))


@receiver(post_delete, sender=SeriesMember)
def end_access_of_removed_member(sender, instance, **kwargs):
    """Off the team: access to the series ends with this request; every session ends too."""
    user = instance.user
    audit.record(audit.Kind.MEMBER_REMOVED, user=user, series=instance.series, detail=instance.get_role_display())
    _drop_unused_groups(user)
    if not user.is_superuser and not SeriesMember.objects.filter(user=user).exists():
        type(user)._default_manager.filter(pk=user.pk).update(is_staff=False)
    sign_out_everywhere(user=user, actor=audit.current_actor(), reason=str(instance.series))


def _methods(request) -> str:
    from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY

    records = request.session.get(AUTHENTICATION_METHODS_SESSION_KEY) or []
    names = []
    for record in records:
        method = record.get("method", "")
        if method == "socialaccount":
            names.append(f"{record.get('provider', '')}")
        elif method == "mfa":
            names.append(record.get("type", "mfa"))
        elif method:
            names.append(method)
    return " + ".join(dict.fromkeys(names))


@receiver(user_logged_in)
def start_staff_session(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    request.session[SESSION_KEY] = stored_generation(user)
    mark_seen(request, timezone.now())
    second_factor_state(request, user)
    audit.record(audit.Kind.SIGNED_IN, request=request, user=user, actor=user, method=_methods(request))


@receiver(user_logged_out)
def log_sign_out(sender, request, user, **kwargs):
    if user is not None and request is not None and not getattr(request, "_staff_session_ended", False):
        audit.record(audit.Kind.SIGNED_OUT, request=request, user=user, actor=user)


@receiver(user_login_failed)
def log_failed_password(sender, credentials, request=None, **kwargs):
    from django.contrib.auth import get_user_model

    username = credentials.get("username", "")
    User = get_user_model()
    user = User._default_manager.filter(username__iexact=username).first() if username else None
    audit.record(
        audit.Kind.SIGN_IN_FAILED, request=request, user=user, actor=None, username=username, method="password"
    )


@receiver(mfa_signals.authentication_failed)
def log_failed_second_factor(sender, request, user, authenticator, **kwargs):
    audit.record(audit.Kind.SECOND_FACTOR_FAILED, request=request, user=user, actor=None, method=authenticator.type)


@receiver(mfa_signals.authenticator_added)
def log_second_factor_added(sender, request, user, authenticator, **kwargs):
    audit.record(audit.Kind.SECOND_FACTOR_ADDED, request=request, user=user, method=authenticator.type)
    if request is not None and hasattr(request, "session"):
        second_factor_state(request, user)


@receiver(mfa_signals.authenticator_removed)
def log_second_factor_removed(sender, request, user, authenticator, **kwargs):
    audit.record(audit.Kind.SECOND_FACTOR_REMOVED, request=request, user=user, method=authenticator.type)
    if request is not None and hasattr(request, "session"):
        second_factor_state(request, user)
