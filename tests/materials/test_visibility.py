"""Who sees which material: the public, a registrant of the talk (by their link), a registrant of another
talk, door staff and organizers of the series, and staff of another series."""

import pytest
from django.test import Client

from events.models import SeriesMember
from materials.models import Kind, Visibility, registrant_path
from registrations import services as registrations

PUBLIC, REGISTRANTS, STAFF = Visibility.PUBLIC, Visibility.REGISTRANTS, Visibility.STAFF


@pytest.fixture
def files(past_event, add_material):
    """One uploaded PDF and one link of each visibility."""
    return {
        visibility: {
            "file": add_material(past_event, title=f"{visibility} slides", visibility=visibility),
            "link": add_material(
                past_event,
                kind=Kind.RECORDING,
                title=f"{visibility} recording",
                visibility=visibility,
                url=f"https://video.example.edu/{visibility}",
            ),
        }
        for visibility in (PUBLIC, REGISTRANTS, STAFF)
    }


@pytest.fixture
def viewers(past_event, make_event, other_series, make_team_member, series, audience):
    """name -> (client, the registration whose link they use or None)."""
    other_talk = make_event(series=other_series, title="Another talk")
    stranger = registrations.register(event=other_talk, name="Ola Nordmann", email="ola@example.edu").registration

    def signed_in(user):
        client = Client()
        client.force_login(user)
        return client

    return {
        "the public": (Client(), None),
        "a registrant of this talk": (Client(), audience["came"]),
        "a registrant who waited": (Client(), audience["waited"]),
        "a registrant of another talk": (Client(), stranger),
        "door staff of the series": (signed_in(make_team_member(series, "dora", role=SeriesMember.Role.DOOR)), None),
        "an organizer of the series": (signed_in(make_team_member(series, "olga")), None),
        "an organizer of another series": (signed_in(make_team_member(other_series, "theo")), None),
    }


SEES = {
    "the public": {PUBLIC},
    "a registrant of this talk": {PUBLIC, REGISTRANTS},
    "a registrant who waited": {PUBLIC, REGISTRANTS},
    "a registrant of another talk": {PUBLIC},
    "door staff of the series": {PUBLIC, REGISTRANTS, STAFF},
    "an organizer of the series": {PUBLIC, REGISTRANTS, STAFF},
    "an organizer of another series": {PUBLIC},
}


def _registrant_file_path(material, registration):
    return registrant_path(registration) + f"{material.key}/{material.download_name}"


def _downloads(client, material, registration) -> bool:
    """Can this viewer fetch the file, by the address they have (their own link, or the file's)?"""
    response = client.get(material.get_absolute_url())
    if response.status_code == 200:
        return True
    assert response.status_code == 404
    if registration is None:
        return False
    response = client.get(_registrant_file_path(material, registration))
    assert response.status_code in (200, 404)
    return response.status_code == 200


def _listed(client, event, registration) -> set[str]:
    """The titles this viewer finds on the talk page and, with a link, on their own materials page."""
    pages = [client.get(event.get_absolute_url()).content.decode()]
    if registration is not None:
        pages.append(client.get(registrant_path(registration)).content.decode())
    return {title for title in _all_titles() if any(f">{title}</a>" in page for page in pages)}


def _all_titles():
    return [f"{visibility} {what}" for visibility in (PUBLIC, REGISTRANTS, STAFF) for what in ("slides", "recording")]


def test_each_viewer_downloads_and_is_shown_exactly_what_they_may_see(files, viewers, past_event, subtests):
    for viewer, visibilities in SEES.items():
        client, registration = viewers[viewer]
        with subtests.test(viewer=viewer, what="files"):
            fetched = {
                visibility for visibility, found in files.items() if _downloads(client, found["file"], registration)
            }
            assert fetched == visibilities
        with subtests.test(viewer=viewer, what="pages"):
            listed = _listed(client, past_event, registration)
            assert listed == {f"{visibility} {what}" for visibility in visibilities for what in ("slides", "recording")}


def test_a_registrants_link_opens_only_files_of_their_own_talk(files, viewers, past_event, make_event, add_material):
    _client, stranger = viewers["a registrant of another talk"]
    theirs = add_material(stranger.event, title="Their slides", visibility=REGISTRANTS)
    mine = files[REGISTRANTS]["file"]
    client = Client()

    assert client.get(_registrant_file_path(theirs, stranger)).status_code == 200
    assert client.get(_registrant_file_path(mine, stranger)).status_code == 404


@pytest.mark.parametrize(
    "token",
    ["not-a-token", "tampered:x", "manage", "checkin", "feedback", "altered"],
)
def test_a_link_that_is_not_a_materials_link_opens_nothing(files, audience, token):
    registration = audience["came"]
    from feedback.models import answer_token
    from materials.models import registrant_token

    tokens = {
        "manage": registration.token,
        "checkin": registration.checkin_token,
        "feedback": answer_token(registration),
        "altered": registrant_token(registration)[:-1] + ("A" if registrant_token(registration)[-1] != "A" else "B"),
    }
    value = tokens.get(token, token)
    material = files[REGISTRANTS]["file"]
    client = Client()

    page = client.get(f"/materials/r/{value}/")
    assert page.status_code == 404
    assert "This link does not work" in page.content.decode()  # and the way to get the links again
    assert client.get(f"/materials/r/{value}/{material.key}/{material.download_name}").status_code == 404


def test_a_cancelled_registration_keeps_only_what_everyone_sees(files, audience):
    left = audience["cancelled"]
    client = Client()

    page = client.get(registrant_path(left)).content.decode()

    assert "registrants slides" not in page
    assert client.get(_registrant_file_path(files[REGISTRANTS]["file"], left)).status_code == 404


def test_materials_of_a_draft_are_for_its_staff_only(make_event, add_material, make_team_member, series):
    draft = make_event(status="draft")
    material = add_material(draft, visibility=PUBLIC)
    organizer = Client()
    organizer.force_login(make_team_member(series, "olga"))

    assert Client().get(material.get_absolute_url()).status_code == 404
    assert organizer.get(material.get_absolute_url()).status_code == 200
