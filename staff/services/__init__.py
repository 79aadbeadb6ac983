"""Every change of staff sign-in, one module per concern; call them as `services.invite(...)`.

- invitations.py: invite to a series' team, revoke, read a link, accept (bound to an
  identity from the provider, an account already signed in, or a new password account)
- identities.py: who an identity from a provider is here (matching account or invitation), or nobody
- team.py: change a member's role, take someone off a team
- sessions.py: sign out everywhere
"""

from .errors import StaffError
from .identities import sign_in_with_identity
from .invitations import (
    accept_invitation,
    accept_with_new_password_account,
    invitation_from_token,
    invite,
    revoke_invitation,
)
from .sessions import sign_out_everywhere
from .team import change_role, remove_member

__all__ = [
    "StaffError",
    "accept_invitation",
    "accept_with_new_password_account",
    "change_role",
    "invitation_from_token",
    "invite",
    "remove_member",
    "revoke_invitation",
    "sign_in_with_identity",
    "sign_out_everywhere",
]
