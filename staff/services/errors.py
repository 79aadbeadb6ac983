from seminar_site.errors import DomainError


class StaffError(DomainError):
    """A staff sign-in or team rule said no."""
