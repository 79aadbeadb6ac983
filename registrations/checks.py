"""System checks for the settings of held seats: a bad value is refused before the site serves."""

from django.conf import settings
from django.core import checks

from .hold_rules import parse_demand, parse_hold_after


@checks.register()
def check_hold_settings(app_configs, **kwargs):
    errors = []
    for name, parse, hint in (
        ("HOLD_AFTER", parse_hold_after, 'A number of sign-ups per client address and hour, e.g. "10", or "off".'),
        ("HOLD_DEMAND", parse_demand, 'A share of the places within a time, e.g. "50%/10m", or "off".'),
    ):
        value = getattr(settings, name)
        try:
            parse(value)
        except ValueError as error:
            errors.append(checks.Error(f"{name}={value!r}: {error}", hint=hint, obj=name, id="registrations.E001"))
    for name in ("SEAT_HOLD_MINUTES", "OFFER_MINUTES", "OFFER_BEFORE_HOURS"):
        if getattr(settings, name) < 0:
            errors.append(checks.Error(f"{name} must not be negative.", obj=name, id="registrations.E002"))
    return errors
