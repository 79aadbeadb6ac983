"""Making, changing and switching off a series' screen link."""

from django.db import transaction

from events.models import Series

from .models import DoorScreen, new_key


@transaction.atomic
def rotate_screen_link(*, series: Series, actor=None) -> DoorScreen:
    """Give `series` a screen link, or a new one: the previous address stops working at once.

    No precondition; never raises for a valid series.
    """
    screen, created = DoorScreen.objects.select_for_update().get_or_create(series=series)
    if not created:
        screen.key = new_key()
    screen.changed_by = actor if actor is not None and actor.is_authenticated else None
    screen.save()
    return screen


def switch_off_screen(*, series: Series) -> bool:
    """Remove the series' screen link (the screen then says its link no longer works). True if there was one."""
    deleted, _by_model = DoorScreen.objects.filter(series=series).delete()
    return bool(deleted)
