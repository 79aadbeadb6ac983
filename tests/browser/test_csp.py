"""The strict Content-Security-Policy breaks nothing: no violation on the talk page or in the admin."""

import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Collected from inside the page: every blocked script, style, image, frame or form.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ${where}`);
});
"""


@pytest.fixture
def watched_page(page):
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.context.add_init_script(RECORD_VIOLATIONS)

    def violations():
        in_page = page.evaluate("window.__cspViolations || []")
        return in_page + [text for text in console if "Content Security Policy" in text]

    page.violations = violations
    return page


def test_the_talk_page_and_registering_raise_no_csp_violation(watched_page, make_event):
    page = watched_page
    event = make_event(capacity=40)

    response = page.goto(event.get_absolute_url())
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.get_by_label("Name:", exact=True).fill("Ana López")
    page.get_by_label("Email:", exact=True).fill("ana@example.edu")
    page.get_by_text("Privacy notice", exact=True).click()
    page.get_by_label("I agree", exact=False).check()
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", name="your seat is confirmed", exact=False)).to_be_visible()

    assert page.violations() == []


def test_the_admin_works_with_no_csp_violation(watched_page, make_event, live_server):
    page = watched_page
    event = make_event(capacity=40)
    User.objects.create_superuser("admin", "admin@example.edu", "correct horse battery")

    page.goto(reverse("admin:login"))
    page.get_by_label("Username:").fill("admin")
    page.get_by_label("Password:").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    assert page.violations() == []

    page.goto(reverse("admin:events_event_change", args=[event.pk]))
    # The date widget's calendar and the time shortcuts are built by the admin's JavaScript.
    page.locator("#calendarlink0").click()
    expect(page.locator("#calendarbox0")).to_be_visible()
    page.locator("#calendarbox0").get_by_role("button", name=re.compile("^Tomorrow")).click()
    page.locator("#clocklink0").click()
    page.locator("#clockbox0").get_by_role("button", name=re.compile("^Noon")).click()
    # The speakers' autocomplete (Select2) searches as one types.
    page.locator("#id_speakers").locator("xpath=following-sibling::span[1]").click()
    page.locator(".select2-search__field").fill("Atlas")
    expect(page.locator(".select2-results__option").first).to_contain_text("Atlas Wang")
    page.keyboard.press("Escape")
    # "Add another" opens a popup whose answer the admin's script hands back to this form.
    with page.expect_popup() as popup_info:
        page.locator("#add_id_speakers").click()
    popup = popup_info.value
    popup.get_by_label("Name:").fill("Grace Hopper")
    assert popup.evaluate("window.__cspViolations") == []
    # The popup closes itself only if its response script was allowed to run. (Listened for
    # before the click: on a fast machine it closes before a later wait would start.)
    with popup.expect_event("close"):
        popup.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#id_speakers option", has_text="Grace Hopper")).to_have_count(1)
    page.get_by_role("button", name="Save and continue editing").first.click()
    expect(page.locator(".messagelist")).to_contain_text("changed successfully")
    assert page.violations() == []
    assert sorted(event.speakers.values_list("name", flat=True)) == ["Atlas Wang", "Grace Hopper"]

    page.goto(reverse("admin:events_event_changelist"))
    page.locator("input.action-select").first.check()
    expect(page.locator(".action-counter")).to_contain_text("1 of 1 selected")
    assert page.violations() == []
