import datetime

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from followers.models import CONFIRM_SALT, Follower
from outbox.models import OutgoingMail
from tests.followers.conftest import follow_url, link_in, messages_to
from tests.mime import sent

pytestmark = pytest.mark.django_db


def test_the_series_and_talk_pages_carry_the_follow_form(client, event):
    for url in (event.series.get_absolute_url(), event.get_absolute_url()):
        page = client.get(url).content.decode()
        assert "Follow this series" in page
        assert f'action="{follow_url(event.series)}"' in page
        assert 'name="follow-email"' in page and 'name="csrfmiddlewaretoken"' in page


def test_the_cached_talk_page_gives_each_visitor_a_working_token(event):
    # The talk page comes from the page cache: each visitor's form must still post.
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first.get(event.get_absolute_url())
    page = second.get(event.get_absolute_url()).content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]

    response = second.post(follow_url(event.series), {"follow-email": "ana@example.edu", "csrfmiddlewaretoken": token})

    assert response.status_code == 302


def test_double_opt_in_sends_only_the_confirmation_then_follows(ask_to_follow, client, series):
    response = ask_to_follow(series, "Ana.Lopez@Example.edu")

    assert response.status_code == 302
    assert response["Location"] == reverse("followers:follow_sent", kwargs={"slug": series.slug})
    assert "Check your inbox" in client.get(response["Location"]).content.decode()
    [message] = sent()
    assert message["To"].addresses[0].addr_spec == "Ana.Lopez@Example.edu"
    assert "List-Unsubscribe" not in message  # not bulk mail: one message the person asked for
    follower = Follower.objects.get()
    assert follower.confirmed_at is None

    confirm_path = link_in(message, "/follow/confirm/")
    page = client.get(confirm_path)
    assert page.status_code == 200
    follower.refresh_from_db()
    assert follower.confirmed_at is None  # a link scanner's GET confirms nothing

    done = client.post(confirm_path, {"wants_announcements": "on"})

    assert done.status_code == 200
    assert "You will get an email for each new talk." in done.content.decode()
    follower.refresh_from_db()
    assert follower.confirmed_at is not None
    assert (follower.wants_announcements, follower.wants_digest) == (True, False)


def test_asking_again_within_minutes_sends_nothing_new(ask_to_follow, series):
    ask_to_follow(series, "ana@example.edu")
    ask_to_follow(series, "ANA@example.edu ")  # letter case and spaces: the same address

    assert len(sent()) == 1
    assert Follower.objects.count() == 1


def test_asking_again_later_sends_the_confirmation_again(ask_to_follow, series):
    ask_to_follow(series, "ana@example.edu")
    Follower.objects.update(confirmation_sent_at=timezone.now() - datetime.timedelta(hours=1))

    ask_to_follow(series, "ana@example.edu")

    assert len(messages_to("ana@example.edu")) == 2


def test_a_confirmed_follower_who_asks_again_gets_nothing_and_the_page_says_the_same(
    ask_to_follow, confirmed_follower, series
):
    confirmed_follower(series, "ana@example.edu")
    response = ask_to_follow(series, "ana@example.edu")

    assert response.status_code == 302
    assert response["Location"] == reverse("followers:follow_sent", kwargs={"slug": series.slug})
    assert sent() == []


@pytest.mark.parametrize(
    "email, error",
    [
        ("", "This field is required."),
        ("not-an-address", "Enter a valid email address."),
        ("ana@example.edu\r\nBcc: eve@example.edu", "Enter a valid email address."),
        ("a" * 10_000 + "@example.edu", "Ensure this value has at most 254 characters"),
    ],
)
def test_bad_addresses_are_refused_with_a_message_and_nothing_is_sent(ask_to_follow, series, email, error):
    response = ask_to_follow(series, email)

    assert response.status_code == 400
    assert error in response.content.decode()
    assert Follower.objects.count() == 0 and OutgoingMail.objects.count() == 0


def test_an_idn_address_can_follow(ask_to_follow, series):
    response = ask_to_follow(series, "ana@bücher.example")

    assert response.status_code == 302
    [message] = sent()
    assert message["To"].addresses[0].domain in ("bücher.example", "xn--bcher-kva.example")


def test_an_idn_address_follows_once_however_its_domain_is_spelled(ask_to_follow, series):
    assert ask_to_follow(series, "ana@bücher.example").status_code == 302
    assert ask_to_follow(series, "ANA@xn--bcher-kva.example").status_code == 302

    assert list(Follower.objects.values_list("email", flat=True)) == ["ana@xn--bcher-kva.example"]
    assert len(sent()) == 1


def test_the_follow_form_is_rate_limited_per_address(ask_to_follow, series, settings):
    settings.EMAIL_ADDRESS_RATE_LIMIT = "2/h"
    assert ask_to_follow(series, "ana@example.edu").status_code == 302
    assert ask_to_follow(series, "ana@example.edu").status_code == 302

    refused = ask_to_follow(series, "ana@example.edu")

    assert refused.status_code == 429 and refused["Retry-After"]
    assert len(sent()) == 1


def test_the_follow_form_is_rate_limited_per_client(ask_to_follow, series, settings):
    settings.EMAIL_RATE_LIMIT = "2/h"
    ask_to_follow(series, "one@example.edu")
    ask_to_follow(series, "two@example.edu")

    assert ask_to_follow(series, "three@example.edu").status_code == 429
    assert Follower.objects.count() == 2


def test_an_unknown_series_is_a_404(client):
    assert client.post("/series/no-such-series/follow/", {"follow-email": "ana@example.edu"}).status_code == 404


def test_tampered_and_expired_confirmation_links_do_nothing(ask_to_follow, client, series, settings):
    ask_to_follow(series, "ana@example.edu")
    confirm_path = link_in(sent()[0], "/follow/confirm/")
    tampered = confirm_path.rstrip("/")[:-2] + "xx/"

    assert client.post(tampered, {"wants_announcements": "on"}).status_code == 404
    settings.FOLLOW_LINK_DAYS = 0
    expired = client.post(confirm_path, {"wants_announcements": "on"})

    assert expired.status_code == 404
    assert "This link does not work" in expired.content.decode()
    assert Follower.objects.get().confirmed_at is None


def test_the_unsubscribe_token_cannot_confirm(confirmed_follower, client, series):
    follower = confirmed_follower(series, "ana@example.edu")
    wrong_power = reverse("followers:confirm", kwargs={"token": follower.unsubscribe_token})

    assert client.get(wrong_power).status_code == 404


def test_confirming_with_nothing_chosen_is_refused_with_a_message(ask_to_follow, client, series):
    series.digest_weekday, series.digest_time = 0, datetime.time(8, 0)
    series.save()
    ask_to_follow(series, "ana@example.edu")

    response = client.post(link_in(sent()[0], "/follow/confirm/"), {})

    assert response.status_code == 400
    assert "Choose announcements, the weekly digest, or both." in response.content.decode()
    assert Follower.objects.get().confirmed_at is None


def test_a_series_without_a_digest_schedule_offers_no_digest(ask_to_follow, client, series, make_event):
    assert not series.has_digest
    talk_page = client.get(make_event().get_absolute_url()).content.decode()
    assert "weekly digest" not in talk_page
    ask_to_follow(series, "ana@example.edu")
    link = link_in(sent()[0], "/follow/confirm/")

    form = client.get(link).content.decode()
    nothing = client.post(link, {})
    followed = client.post(link, {"wants_announcements": "on", "wants_digest": "on"})

    assert "weekly digest" not in form and "An email when a new talk is announced" in form
    assert nothing.status_code == 400 and "Tick the announcements to follow this series." in nothing.content.decode()
    follower = Follower.objects.get()
    assert followed.status_code == 200 and follower.wants_announcements and not follower.wants_digest
    assert "weekly digest" not in followed.content.decode()


def test_one_click_unsubscribe_is_a_post_without_cookie_or_csrf_token(confirmed_follower, series):
    follower = confirmed_follower(series, "ana@example.edu")
    mail_client = Client(enforce_csrf_checks=True)  # no cookie, no session, no CSRF token
    # Mail scanners check a link with HEAD (or GET) first: answered, and nothing stops.
    assert mail_client.head(follower.unsubscribe_path).status_code == 200
    assert Follower.objects.get(pk=follower.pk).unsubscribed_at is None

    response = mail_client.post(
        follower.unsubscribe_path,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    follower.refresh_from_db()
    assert follower.unsubscribed_at is not None and follower.stopped_because == "unsubscribed"
    # Final: the same link again changes nothing, and the confirmation link cannot bring it back.
    assert mail_client.post(follower.unsubscribe_path).status_code == 200
    confirm = Client().post(
        reverse("followers:confirm", kwargs={"token": follower.confirm_token}), {"wants_digest": "on"}
    )
    assert confirm.status_code == 404
    assert Follower.objects.get(pk=follower.pk).unsubscribed_at == follower.unsubscribed_at


def test_the_unsubscribe_link_opened_in_a_browser_asks_first(confirmed_follower, client, series):
    follower = confirmed_follower(series, "ana@example.edu")

    page = client.get(follower.unsubscribe_path)

    assert page.status_code == 200
    assert '<form method="post">' in page.content.decode()
    follower.refresh_from_db()
    assert follower.unsubscribed_at is None


def test_a_tampered_unsubscribe_link_unsubscribes_nobody(confirmed_follower, series):
    follower = confirmed_follower(series, "ana@example.edu")
    forged = reverse("followers:unsubscribe", kwargs={"token": signing.Signer(salt=CONFIRM_SALT).sign(follower.key)})

    assert Client(enforce_csrf_checks=True).post(forged).status_code == 404
    assert Follower.objects.get(pk=follower.pk).unsubscribed_at is None


def test_only_the_unsubscribe_endpoint_is_csrf_exempt(confirmed_follower, series):
    follower = confirmed_follower(series, "ana@example.edu")
    strict = Client(enforce_csrf_checks=True)

    assert strict.post(follow_url(series), {"follow-email": "bob@example.edu"}).status_code == 403
    confirm_path = reverse("followers:confirm", kwargs={"token": follower.confirm_token})
    assert strict.post(confirm_path, {"wants_digest": "on"}).status_code == 403


def test_public_pages_show_no_follower(confirmed_follower, client, event):
    confirmed_follower(event.series, "ana@example.edu")
    for url in (event.series.get_absolute_url(), event.get_absolute_url(), follow_url(event.series)):
        assert "ana@example.edu" not in client.get(url).content.decode()
    assert mail.outbox == []


def test_following_costs_a_fixed_number_of_queries(client, series, django_assert_max_num_queries):
    # Ten of them count the rate limits in the database cache (Redis in production).
    with django_assert_max_num_queries(19):
        response = client.post(follow_url(series), {"follow-email": "ana@example.edu"})

    assert response.status_code == 302


def test_a_spanish_visitor_follows_in_spanish_and_gets_spanish_mail(client, event, django_capture_on_commit_callbacks):
    spanish = {"HTTP_ACCEPT_LANGUAGE": "es"}
    assert "Seguir este ciclo" in client.get(event.get_absolute_url(), **spanish).content.decode()
    refused = client.post(follow_url(event.series), {"follow-email": "no"}, **spanish)
    assert refused.status_code == 400 and "Tu dirección de correo" in refused.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(follow_url(event.series), {"follow-email": "ana@example.edu"}, **spanish)

    [message] = sent()
    assert message["Subject"] == "Confirma que quieres seguir IFML Seminar"
    assert Follower.objects.get().language == "es"
