from django import template

from ..sessions import is_door_only

register = template.Library()


@register.filter
def sees_admin(user) -> bool:
    """Does the site's header offer `user` the admin? Staff, but not door staff, whose staff side is the door."""
    # Pages rendered without a request (the 500 page) have no user.
    return bool(getattr(user, "is_staff", False)) and not is_door_only(user)
