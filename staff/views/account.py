"""Your own sign-in: how you sign in, your second factors, your recent sign-ins, and "sign out everywhere"."""

from allauth.mfa.models import Authenticator
from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from .. import providers, services
from ..models import AuditEntry

RECENT = 20


@never_cache
@staff_member_required
def account(request):
    user = request.user
    names = {provider.id: provider.name for provider in providers.configured()}
    context = {
        "identities": sorted(
            {names.get(account.provider, account.provider) for account in user.socialaccount_set.all()}
        ),
        "has_password": user.has_usable_password(),
        "second_factors": sorted(
            {
                Authenticator.Type(kind).label
                for kind in Authenticator.objects.filter(user=user).values_list("type", flat=True)
            }
        ),
        "recent": AuditEntry.objects.filter(user=user)
        .filter(
            kind__in=[
                AuditEntry.Kind.SIGNED_IN,
                AuditEntry.Kind.SIGN_IN_FAILED,
                AuditEntry.Kind.SECOND_FACTOR_FAILED,
                AuditEntry.Kind.ACCOUNT_SLOWED,
                AuditEntry.Kind.SIGNED_OUT_EVERYWHERE,
            ]
        )
        .select_related("series")[:RECENT],
        "memberships": user.series_memberships.select_related("series"),
    }
    return render(request, "staff/account.html", context)


@staff_member_required
@require_POST
def sign_out_everywhere(request):
    """Every session of yours ends, this one too: sign in again."""
    services.sign_out_everywhere(user=request.user, request=request, actor=request.user)
    return redirect(reverse("admin:login"))
