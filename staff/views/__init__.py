"""Staff sign-in pages: the sign-in itself (signin), invitations, a series' team, your own sign-in (account)."""
