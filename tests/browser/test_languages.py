"""The site in the visitor's language: a Spanish browser, and the switcher."""

import re

import pytest
from playwright.sync_api import expect

from registrations.models import Registration
from tests.browser.axe import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_spanish_browser_gets_the_talk_page_form_and_errors_in_spanish(new_page, make_event):
    event = make_event(capacity=2)
    page = new_page(locale="es-ES")

    page.goto(event.get_absolute_url())
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", name="Inscripción")).to_be_visible()
    expect(page.get_by_text("Quedan 2 de 2 lugares")).to_be_visible()
    expect(page.get_by_role("heading", name=event.title)).to_be_visible()  # the talk's own words
    assert_accessible(page)

    # Sent empty: the server's answer, in Spanish, with the errors read out first.
    page.get_by_role("button", name="Inscribirme").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", name="Revisa el formulario")).to_be_visible()
    expect(page.get_by_role("link", name="Nombre: Este campo es obligatorio.")).to_be_visible()
    expect(
        page.get_by_role("link", name=re.compile("Aviso de privacidad: Acepta el aviso de privacidad"))
    ).to_be_visible()
    assert_accessible(page)
    assert Registration.objects.count() == 0

    page.get_by_label("Nombre:", exact=True).fill("Lucía Pérez")
    page.get_by_label("Correo electrónico:", exact=True).fill("lucia@unam.mx")
    page.get_by_label(re.compile("Acepto que")).check()
    page.get_by_role("button", name="Inscribirme").click()

    expect(page.get_by_role("heading", name="Gracias, tu lugar está confirmado")).to_be_visible()
    assert Registration.objects.get().language == "es"


def test_the_switcher_changes_the_language_and_remembers_it(page, make_event):
    event = make_event()

    page.goto(event.get_absolute_url())
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="Español").click()

    expect(page).to_have_url(re.compile(f"{event.get_absolute_url()}$"))
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("button", name="Español")).to_have_attribute("aria-current", "true")
    assert_accessible(page)
    page.goto("/")
    expect(page.get_by_role("heading", name="Próximas charlas", level=1)).to_be_visible()

    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Upcoming talks", level=1)).to_be_visible()
