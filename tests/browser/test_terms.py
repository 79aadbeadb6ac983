"""An organizer previews a term's file in the browser: every row readable on a laptop, the page accessible."""

import pytest
from playwright.sync_api import expect

from tests.browser.axe import assert_accessible
from tests.browser.test_questions import organizer
from tests.terms.conftest import csv_bytes, term_rows

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_preview_says_what_each_row_does_in_whole_words(new_page, series, venue, speaker, tmp_path):
    organizer("maria", "a long organizer passphrase", series)
    rows = term_rows(3, speakers="Atlas Wang; Zoë Núñez-Ångström; María-José O'Neil", affiliations="UT Austin")
    rows[0]["title"] = "Generating a Video: Reflecting on a Two-Year Odyssey, " * 3
    rows[2]["date"] = "2027-02-30"
    term = tmp_path / "term.csv"
    term.write_bytes(csv_bytes(rows))
    page = new_page(viewport={"width": 1280, "height": 900})

    page.goto("/admin/")
    page.get_by_label("Username:").fill("maria")
    page.get_by_label("Password:").fill("a long organizer passphrase")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Import talks").click()
    page.get_by_label("The term's file").set_input_files(term)
    page.get_by_label("Create speakers and rooms not found").check()
    page.get_by_role("button", name="Preview").click()

    expect(page.get_by_text("1 problem: nothing will be imported until every row is valid.")).to_be_visible()
    does = page.locator(".term-rows tbody td:nth-child(2)")
    assert does.all_inner_texts() == ["create", "create", "error"]
    # Each on one line: "create" used to be broken into "creat" and "e" by the long title beside it.
    lines = does.evaluate_all(
        "cells => cells.map(cell => { const r = document.createRange(); r.selectNodeContents(cell);"
        " return new Set([...r.getClientRects()].map(rect => Math.round(rect.top))).size; })"
    )
    assert lines == [1, 1, 1]
    assert_accessible(page)
