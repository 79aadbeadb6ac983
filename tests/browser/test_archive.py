"""The past talks' page in a browser: its search form and its list of talks, wide and narrow."""

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


def test_a_talk_s_date_on_a_phone_is_as_tall_as_its_text(new_page, make_event):
    # The list in a column: the date's 4rem basis of the wide row must not become its height.
    make_event(title="Reliable Uncertainty")

    narrow = new_page(viewport={"width": 390, "height": 800})
    narrow.goto("/")
    date = narrow.locator(".event-item__date").first
    # From the top of "DEC" to the bottom of "21", however the line boxes fall.
    text_height = date.evaluate(
        """element => {
            const boxes = [...element.children].map(child => child.getBoundingClientRect());
            return Math.max(...boxes.map(box => box.bottom)) - Math.min(...boxes.map(box => box.top));
        }"""
    )

    box = date.bounding_box()
    assert box["height"] - text_height < 4
    # And the talk's text follows right under it (the column's 0.25rem gap).
    body = narrow.locator(".event-item__body").first.bounding_box()
    assert body["y"] - (box["y"] + box["height"]) < 8
