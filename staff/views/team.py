"""A series' team for its organizers: who is on it and how they sign in, invitations sent, and the changes."""

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from events.models import Series, SeriesMember
from seminar_site import clock
from seminar_site.addresses import readable_address

from .. import providers, services
from ..forms import InviteForm, RoleForm
from ..models import Invitation


def _series(request, pk) -> Series:
    # Organizers of the series and superusers; anyone else: 404, whether it exists or not.
    return get_object_or_404(Series.objects.managed_by(request.user), pk=pk)


def _members(series):
    members = list(
        SeriesMember.objects.filter(series=series)
        .select_related("user")
        .prefetch_related("user__socialaccount_set")
        .order_by("role", "user__username")
    )
    factors: dict[int, set[str]] = {}
    for user_id, kind in Authenticator.objects.filter(
        user__in=[member.user_id for member in members],
        type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN],
    ).values_list("user_id", "type"):
        factors.setdefault(user_id, set()).add(kind)
    names = {provider.id: provider.name for provider in providers.configured()}
    for member in members:
        accounts = member.user.socialaccount_set.all()
        member.sign_in_with = sorted({names.get(account.provider, account.provider) for account in accounts})
        member.has_password = member.user.has_usable_password()
        member.second_factors = sorted({Authenticator.Type(kind).label for kind in factors.get(member.user_id, set())})
        member.role_form = RoleForm(initial={"role": member.role}, prefix=f"member-{member.pk}")
    return members


@never_cache
@staff_member_required
def team(request, pk):
    """The team page; its form invites someone by email and role."""
    series = _series(request, pk)
    form = InviteForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                invitation = services.invite(
                    series=series,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    actor=request.user,
                    request=request,
                )
            except services.StaffError as error:
                form.add_error("email", error.message)
            else:
                messages.success(
                    request,
                    _("Invitation sent to %(email)s: the link works until %(date)s.")
                    % {
                        "email": readable_address(invitation.email),
                        # As the team's list of invitations writes it: on the site's clock, naming its zone.
                        "date": clock.moment_text(invitation.expires_at),
                    },
                )
                return redirect("staff:team", pk=series.pk)
        status = 400
    context = {
        "series": series,
        "members": _members(series),
        "invitations": Invitation.objects.filter(series=series).select_related("invited_by", "accepted_by")[:50],
        "form": form,
        "title": _("Team of %(series)s") % {"series": series.name},
    }
    return render(request, "staff/team.html", context, status=status)


def _report(request, error: services.StaffError) -> None:
    messages.error(request, error.message)


@staff_member_required
@require_POST
def revoke(request, pk, invitation_pk):
    series = _series(request, pk)
    invitation = get_object_or_404(Invitation.objects.filter(series=series), pk=invitation_pk)
    try:
        if services.revoke_invitation(invitation=invitation, actor=request.user, request=request):
            messages.success(request, _("The invitation of %(email)s was revoked.") % {"email": invitation.email})
        else:
            messages.info(request, _("That invitation was no longer open."))
    except services.StaffError as error:
        _report(request, error)
    return redirect("staff:team", pk=series.pk)


@staff_member_required
@require_POST
def remove(request, pk, member_pk):
    series = _series(request, pk)
    member = get_object_or_404(SeriesMember.objects.filter(series=series).select_related("user"), pk=member_pk)
    try:
        services.remove_member(member=member, actor=request.user)
        messages.success(
            request,
            _("%(name)s is off the team, and signed out everywhere.") % {"name": member.user.get_username()},
        )
    except services.StaffError as error:
        _report(request, error)
    return redirect("staff:team", pk=series.pk)


@staff_member_required
@require_POST
def change_role(request, pk, member_pk):
    series = _series(request, pk)
    member = get_object_or_404(SeriesMember.objects.filter(series=series).select_related("user"), pk=member_pk)
    form = RoleForm(request.POST, prefix=f"member-{member.pk}")
    if not form.is_valid():
        messages.error(request, _("Choose a role: organizer or door staff."))
        return redirect("staff:team", pk=series.pk)
    try:
        if services.change_role(member=member, role=form.cleaned_data["role"], actor=request.user):
            messages.success(
                request,
                _("%(name)s is now %(role)s.")
                % {"name": member.user.get_username(), "role": member.get_role_display()},
            )
    except services.StaffError as error:
        _report(request, error)
    return redirect("staff:team", pk=series.pk)
