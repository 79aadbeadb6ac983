"""The past talks' page in a browser: its search form, wide and narrow."""

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONTROLS = ("#id_q", "#id_series", "#id_year")


def boxes(page):
    return [page.locator(selector).bounding_box() for selector in CONTROLS]


def test_the_search_fields_stand_in_one_row_on_a_wide_screen_and_stack_on_a_phone(new_page):
    call_command("load_demo", stdout=None)
    call_command("load_demo_history", stdout=None)

    wide = new_page(viewport={"width": 1280, "height": 800})
    wide.goto("/events/past/")
    words, series, year = boxes(wide)
    # One row: left to right, each control's bottom edge on the same line, each label above its own control.
    assert words["x"] < series["x"] < year["x"]
    assert abs((words["y"] + words["height"]) - (series["y"] + series["height"])) < 2
    assert abs((series["y"] + series["height"]) - (year["y"] + year["height"])) < 2
    for selector in CONTROLS:
        label = wide.locator(f"label[for='{selector[1:]}']").bounding_box()
        control = wide.locator(selector).bounding_box()
        assert label["y"] < control["y"] and abs(label["x"] - control["x"]) < 2
    assert wide.get_by_text("Reliable Uncertainty for Scientific Machine Learning").is_visible()

    narrow = new_page(viewport={"width": 390, "height": 800})
    narrow.goto("/events/past/")
    words, series, year = boxes(narrow)
    assert words["y"] < series["y"] < year["y"]
    assert abs(words["x"] - series["x"]) < 2 and abs(series["x"] - year["x"]) < 2
