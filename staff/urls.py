from allauth.account import views as account_views
from allauth.socialaccount import views as socialaccount_views
from allauth.urls import build_provider_urlpatterns
from django.urls import include, path

from .views import account, invitations, signin, team

app_name = "staff"

urlpatterns = [
    path("staff/invitations/<str:token>/", invitations.invitation, name="invitation"),
    path(
        "staff/invitations/<str:token>/with/<str:provider_id>/",
        invitations.accept_with_provider,
        name="accept_with_provider",
    ),
    path("staff/series/<int:pk>/team/", team.team, name="team"),
    path("staff/series/<int:pk>/team/invitations/<int:invitation_pk>/revoke/", team.revoke, name="revoke"),
    path("staff/series/<int:pk>/team/members/<int:member_pk>/remove/", team.remove, name="remove"),
    path("staff/series/<int:pk>/team/members/<int:member_pk>/role/", team.change_role, name="change_role"),
    path("staff/account/", account.account, name="account"),
    path("staff/account/sign-out-everywhere/", account.sign_out_everywhere, name="sign_out_everywhere"),
]

# The parts of django-allauth the site uses, at /accounts/ (providers' callbacks, second factors,
# signing out); its sign-in address leads to the admin's, and nobody signs up.
allauth_urlpatterns = [
    path("login/", signin.to_admin_login, name="account_login"),
    path("signup/", signin.no_self_service, name="account_signup"),
    path("inactive/", signin.no_self_service, name="account_inactive"),
    path("logout/", account_views.logout, name="account_logout"),
    path("reauthenticate/", account_views.reauthenticate, name="account_reauthenticate"),
    path("2fa/", include("allauth.mfa.urls")),
    path("3rdparty/signup/", signin.no_self_service, name="socialaccount_signup"),
    path("3rdparty/login/cancelled/", socialaccount_views.login_cancelled, name="socialaccount_login_cancelled"),
    path("3rdparty/login/error/", socialaccount_views.login_error, name="socialaccount_login_error"),
    *build_provider_urlpatterns(),
]
