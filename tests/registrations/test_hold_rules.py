"""The settings of held seats: what they accept, and the system check that refuses the rest."""

import pytest

from registrations.checks import check_hold_settings
from registrations.hold_rules import parse_demand, parse_hold_after


@pytest.mark.parametrize(("value", "parsed"), [("10", 10), (" 0 ", 0), ("OFF", None), (25, 25)])
def test_hold_after_is_a_count_or_off(value, parsed):
    assert parse_hold_after(value) == parsed


@pytest.mark.parametrize(
    ("value", "parsed"), [("50%/10m", (50, 600)), ("25%/m", (25, 60)), ("100%/2h", (100, 7200)), ("off", None)]
)
def test_hold_demand_is_a_share_within_a_time_or_off(value, parsed):
    assert parse_demand(value) == parsed


@pytest.mark.parametrize("value", ["ten", "-1", "1.5", ""])
def test_a_bad_hold_after_is_refused(value):
    with pytest.raises(ValueError, match='nor "off"'):
        parse_hold_after(value)


@pytest.mark.parametrize("value", ["50/10m", "0%/10m", "101%/1h", "50%/0m", "50%", "half"])
def test_a_bad_hold_demand_is_refused(value):
    with pytest.raises(ValueError, match='nor "off"'):
        parse_demand(value)


def test_the_system_check_names_each_bad_setting(settings):
    settings.HOLD_AFTER, settings.HOLD_DEMAND, settings.SEAT_HOLD_MINUTES = "many", "50/10m", -5

    errors = check_hold_settings(None)

    assert sorted(error.obj for error in errors) == ["HOLD_AFTER", "HOLD_DEMAND", "SEAT_HOLD_MINUTES"]
    assert any("HOLD_DEMAND='50/10m'" in error.msg for error in errors)
