"""A follower changes what they get later: the link in every announcement and digest, and the page that emails it."""

import datetime

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from followers import services
from followers.models import CONFIRM_SALT, MANAGE_SALT, UNSUBSCRIBE_SALT, Follower
from outbox.models import OutgoingMail
from tests.followers.conftest import link_in, messages_to
from tests.mime import html_body, sent

pytestmark = pytest.mark.django_db

MANAGE_LINK = reverse("followers:manage_link")


@pytest.fixture
def weekly(series):
    series.digest_weekday, series.digest_time = 0, datetime.time(8, 0)
    series.save()
    return series


@pytest.fixture
def announced(weekly, confirmed_follower, make_event, django_capture_on_commit_callbacks):
    """Ana follows with both; a new talk is announced to her."""
    follower = confirmed_follower(weekly, "ana@example.edu")
    with django_capture_on_commit_callbacks(execute=True):
        make_event()
    [message] = sent()
    return follower, message


@pytest.fixture
def ask_for_link(client, django_capture_on_commit_callbacks):
    def ask(email, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(MANAGE_LINK, {"email": email}, **extra)

    return ask


def test_every_announcement_carries_a_link_that_changes_what_the_follower_gets(announced, client, settings):
    follower, message = announced
    path = link_in(message, "/follow/manage/")
    assert f'href="https://seminars.example.edu{path}"' in html_body(message)
    # The confirmation link has expired: it no longer works, this one does.
    settings.FOLLOW_LINK_DAYS = 0
    assert client.get(reverse("followers:confirm", kwargs={"token": follower.confirm_token})).status_code == 404

    page = client.get(path)

    assert page.status_code == 200
    assert "You follow this series. Change what you get:" in page.content.decode()
    assert 'id="id_wants_announcements" checked' in page.content.decode()

    saved = client.post(path, {"wants_digest": "on"})

    assert saved.status_code == 200
    assert "You will get a weekly digest of the coming week" in saved.content.decode()
    follower.refresh_from_db()
    assert (follower.wants_announcements, follower.wants_digest) == (False, True)
    assert follower.is_current and follower.confirmed_at is not None
    # Saved for good: the page shows the new choice the next time.
    again = client.get(path).content.decode()
    assert 'id="id_wants_announcements" checked' not in again and 'id="id_wants_digest" checked' in again


def test_the_digest_carries_the_link_too(weekly, confirmed_follower, make_event, django_capture_on_commit_callbacks):
    follower = confirmed_follower(weekly, "ana@example.edu", announcements=False)
    start = datetime.datetime(2027, 3, 24, 15, tzinfo=datetime.UTC)
    with django_capture_on_commit_callbacks(execute=True):
        make_event(start=start)
        services.queue_due_digests(now=datetime.datetime(2027, 3, 22, 14, 0, tzinfo=datetime.UTC))

    [digest] = sent()

    assert digest["Subject"] == "IFML Seminar: talks this week"
    assert link_in(digest, "/follow/manage/") == follower.manage_path


def test_a_follower_who_drops_the_digest_gets_no_more_digests(
    weekly, confirmed_follower, make_event, client, django_capture_on_commit_callbacks
):
    follower = confirmed_follower(weekly, "ana@example.edu")
    client.post(follower.manage_path, {"wants_announcements": "on"})
    with django_capture_on_commit_callbacks(execute=True):
        make_event(start=datetime.datetime(2027, 3, 24, 15, tzinfo=datetime.UTC))
        services.queue_due_digests(now=datetime.datetime(2027, 3, 22, 14, 0, tzinfo=datetime.UTC))

    assert [message["Subject"] for message in sent()] == [
        "New talk: Generating a Video: Reflecting on a Two-Year Odyssey"
    ]


def test_choosing_nothing_is_refused_with_a_message_and_nothing_changes(announced, client):
    follower, message = announced

    response = client.post(link_in(message, "/follow/manage/"), {})

    assert response.status_code == 400
    assert "Choose announcements, the weekly digest, or both." in response.content.decode()
    follower.refresh_from_db()
    assert (follower.wants_announcements, follower.wants_digest) == (True, True)


def tampered(token: str) -> str:
    return token[:-2] + ("xx" if not token.endswith("xx") else "yy")


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_link_gets_the_link_invalid_page_and_changes_nothing(announced, client, method):
    follower, _message = announced
    path = reverse("followers:manage", kwargs={"token": tampered(follower.manage_token)})

    response = getattr(client, method)(path, {"wants_digest": "on"})

    assert response.status_code == 404
    page = response.content.decode()
    assert "This link does not work" in page
    assert f'href="{MANAGE_LINK}"' in page  # where to get a working one
    follower.refresh_from_db()
    assert (follower.wants_announcements, follower.wants_digest) == (True, True)


def test_a_link_signed_with_a_timestamp_is_refused(announced, client):
    # A token of this salt but of another shape (as an expiring link would be) is not this link.
    follower, _message = announced
    stamped = signing.TimestampSigner(salt=MANAGE_SALT).sign(follower.key)

    assert (
        client.post(reverse("followers:manage", kwargs={"token": stamped}), {"wants_digest": "on"}).status_code == 404
    )
    assert Follower.objects.get(pk=follower.pk).wants_announcements


def test_each_token_has_one_power(announced, client):
    follower, _message = announced
    for salt in (CONFIRM_SALT, UNSUBSCRIBE_SALT):
        other = signing.Signer(salt=salt).sign(follower.key)
        assert (
            client.post(reverse("followers:manage", kwargs={"token": other}), {"wants_digest": "on"}).status_code == 404
        )
    confirm_shaped = signing.TimestampSigner(salt=CONFIRM_SALT).sign(follower.key)
    assert client.get(reverse("followers:manage", kwargs={"token": confirm_shaped})).status_code == 404
    # And the manage token neither unsubscribes nor confirms.
    assert Client().post(reverse("followers:unsubscribe", kwargs={"token": follower.manage_token})).status_code == 404
    assert client.get(reverse("followers:confirm", kwargs={"token": follower.manage_token})).status_code == 404
    follower.refresh_from_db()
    assert follower.is_current and (follower.wants_announcements, follower.wants_digest) == (True, True)


def test_the_page_does_not_hand_out_the_unsubscribe_link(announced, client):
    follower, message = announced

    page = client.get(link_in(message, "/follow/manage/")).content.decode()

    assert follower.unsubscribe_token not in page and "ana@example.edu" not in page


def test_the_link_stops_working_when_the_follow_ends(announced, client):
    follower, message = announced
    path = link_in(message, "/follow/manage/")
    services.unsubscribe(follower=follower)

    response = client.post(path, {"wants_digest": "on"})

    assert response.status_code == 404 and "This link does not work" in response.content.decode()
    services.erase_personal_data(followers=Follower.objects.filter(pk=follower.pk))
    assert client.get(path).status_code == 404


def test_an_address_never_confirmed_cannot_use_a_manage_token(ask_to_follow, client, series):
    ask_to_follow(series, "ana@example.edu")
    follower = Follower.objects.get()

    response = client.post(follower.manage_path, {"wants_announcements": "on"})

    assert response.status_code == 404
    assert Follower.objects.get().confirmed_at is None


def test_changing_the_choice_of_a_stopped_follow_is_refused(confirmed_follower, series):
    # The page was open when the mail client's one-click unsubscribe ran: saving must not bring it back.
    follower = confirmed_follower(series, "ana@example.edu")
    services.unsubscribe(follower=follower)

    with pytest.raises(services.FollowError) as refused:
        services.change_choices(follower=follower, wants_announcements=True, wants_digest=False)

    assert refused.value.code == "stopped"
    follower.refresh_from_db()
    assert follower.wants_digest and not follower.is_current


def test_changing_the_choice_of_an_address_never_confirmed_is_refused(series):
    # Double opt-in: only the confirmation link starts a follow, whatever token reaches the service.
    follower = services.follow(series=series, email="ana@example.edu")

    with pytest.raises(services.FollowError) as refused:
        services.change_choices(follower=follower, wants_announcements=True, wants_digest=False)

    assert refused.value.code == "not_confirmed"
    assert Follower.objects.get().confirmed_at is None


def test_the_manage_page_costs_a_fixed_number_of_queries(announced, client, django_assert_max_num_queries):
    _follower, message = announced
    path = link_in(message, "/follow/manage/")
    # The follower with its series (no session: nobody signs in); on POST also the row locked again
    # with its series, its update, and the savepoint around them.
    with django_assert_max_num_queries(1):
        assert client.get(path).status_code == 200
    with django_assert_max_num_queries(5):
        assert client.post(path, {"wants_digest": "on"}).status_code == 200


# The page that emails the link again.


def test_asking_for_the_link_emails_it_and_the_link_from_that_email_works(announced, ask_for_link, client):
    follower, _announcement = announced
    assert "Change what you get" in client.get(MANAGE_LINK).content.decode()

    response = ask_for_link(" ANA@Example.edu ")

    assert response.status_code == 302
    assert response["Location"] == reverse("followers:manage_link_sent")
    assert "Check your inbox" in client.get(response["Location"]).content.decode()
    [message] = messages_to("ana@example.edu")[1:]
    assert message["Subject"] == "Change what you get from IFML Seminar"
    assert "List-Unsubscribe" not in message  # asked for, not bulk mail
    path = link_in(message, "/follow/manage/")
    assert f'href="https://seminars.example.edu{path}"' in html_body(message)
    assert client.post(path, {"wants_announcements": "on"}).status_code == 200
    follower.refresh_from_db()
    assert (follower.wants_announcements, follower.wants_digest) == (True, False)


def test_one_message_per_series_followed(weekly, confirmed_follower, ask_for_link):
    other = type(weekly).objects.create(
        name="Theory Lunch", slug="theory-lunch", organizer_name="Theory", organizer_email="theory@example.edu"
    )
    confirmed_follower(weekly, "ana@example.edu")
    confirmed_follower(other, "ana@example.edu")

    ask_for_link("ana@example.edu")

    assert sorted(message["Subject"] for message in sent()) == [
        "Change what you get from IFML Seminar",
        "Change what you get from Theory Lunch",
    ]


@pytest.mark.parametrize("who", ["follows", "stranger", "unconfirmed", "unsubscribed"])
def test_the_page_answers_the_same_whoever_the_address_is(
    who, series, confirmed_follower, ask_to_follow, ask_for_link, client
):
    if who == "follows":
        confirmed_follower(series, "ana@example.edu")
    elif who == "unconfirmed":
        ask_to_follow(series, "ana@example.edu")
    elif who == "unsubscribed":
        services.unsubscribe(follower=confirmed_follower(series, "ana@example.edu"))
    before = len(sent())

    response = ask_for_link("ana@example.edu")

    assert response.status_code == 302
    assert response["Location"] == reverse("followers:manage_link_sent")
    page = client.get(response["Location"]).content.decode()
    assert "If that address follows a series" in page
    # Only a confirmed follow that still stands is sent its link.
    assert len(sent()) - before == (1 if who == "follows" else 0)


def test_asking_again_within_minutes_sends_nothing_new(series, confirmed_follower, ask_for_link):
    confirmed_follower(series, "ana@example.edu")
    ask_for_link("ana@example.edu")
    ask_for_link("ana@example.edu")

    assert len(sent()) == 1
    OutgoingMail.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))

    ask_for_link("ana@example.edu")

    assert len(sent()) == 2


def test_an_idn_address_gets_its_link_however_its_domain_is_typed(series, confirmed_follower, ask_for_link):
    confirmed_follower(series, "ana@bücher.example")

    ask_for_link("ANA@xn--bcher-kva.example")

    [message] = sent()
    assert message["To"].addresses[0].domain in ("bücher.example", "xn--bcher-kva.example")


@pytest.mark.parametrize(
    "email, error",
    [
        ("", "This field is required."),
        ("not-an-address", "Enter a valid email address."),
        ("ana@example.edu\r\nBcc: eve@example.edu", "Enter a valid email address."),
        ("a" * 10_000 + "@example.edu", "Ensure this value has at most 254 characters"),
    ],
)
def test_bad_addresses_are_refused_with_a_message_and_nothing_is_sent(
    series, confirmed_follower, ask_for_link, email, error
):
    confirmed_follower(series, "ana@example.edu")

    response = ask_for_link(email)

    assert response.status_code == 400
    assert error in response.content.decode()
    assert sent() == [] and not OutgoingMail.objects.filter(kind="followers.manage_link").exists()


def test_the_page_is_rate_limited_per_address(series, confirmed_follower, ask_for_link, settings):
    confirmed_follower(series, "ana@example.edu")
    settings.EMAIL_ADDRESS_RATE_LIMIT = "2/h"
    assert ask_for_link("ana@example.edu").status_code == 302
    assert ask_for_link("ana@example.edu").status_code == 302

    refused = ask_for_link("ana@example.edu")

    assert refused.status_code == 429 and refused["Retry-After"]
    assert len(sent()) == 1


def test_the_page_is_rate_limited_per_client(series, confirmed_follower, ask_for_link, settings):
    confirmed_follower(series, "three@example.edu")
    settings.EMAIL_RATE_LIMIT = "2/h"
    ask_for_link("one@example.edu")
    ask_for_link("two@example.edu")

    assert ask_for_link("three@example.edu").status_code == 429
    assert sent() == []


def test_the_address_budget_is_shared_with_the_follow_form(
    series, confirmed_follower, ask_to_follow, ask_for_link, settings
):
    confirmed_follower(series, "ana@example.edu")
    settings.EMAIL_ADDRESS_RATE_LIMIT = "1/h"
    ask_to_follow(series, "ana@example.edu")

    assert ask_for_link("ana@example.edu").status_code == 429
    assert sent() == []


def test_the_link_is_written_in_the_followers_language(client, series, confirmed_follower, ask_for_link):
    follower = confirmed_follower(series, "ana@example.edu")
    Follower.objects.filter(pk=follower.pk).update(language="es")

    ask_for_link("ana@example.edu")

    [message] = sent()
    assert '<html lang="es">' in html_body(message)
    assert link_in(message, "/follow/manage/") == follower.manage_path
