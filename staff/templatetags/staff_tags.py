from django import template

from ..sessions import is_door_only

register = template.Library()


@register.filter
def sees_admin(user) -> bool:
    """Does the site's header offer `user` the admin? Staff, but not door staff, whose staff side is the door."""
    return user.is_staff and not is_door_only(user)
