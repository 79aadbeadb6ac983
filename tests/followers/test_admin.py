import pytest
from django.urls import reverse

from events.models import Series
from outbox.models import OutgoingMail

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:followers_seriesfollowing_changelist"


@pytest.fixture
def followed(series, confirmed_follower, ask_to_follow):
    confirmed_follower(series, "ana@example.edu")
    confirmed_follower(series, "bob@example.edu", digest=False)
    ask_to_follow(series, "unconfirmed@example.edu")
    other = Series.objects.create(
        name="Other Seminar", slug="other", organizer_name="Other", organizer_email="other@example.edu"
    )
    confirmed_follower(other, "carol@example.edu")
    return other


def test_organizers_see_how_many_follow_their_series_never_who(client, series, followed, make_team_member):
    client.force_login(make_team_member(series, "alice"))

    page = client.get(reverse(CHANGELIST))

    assert page.status_code == 200
    html = page.content.decode()
    assert "IFML Seminar" in html and "Other Seminar" not in html
    counts = page.context["cl"].result_list[0]
    assert (counts.confirmed_count, counts.announcement_count, counts.digest_count, counts.unconfirmed_count) == (
        2,
        2,
        1,
        1,
    )
    assert "@example.edu" not in html.replace("ifml-seminar@example.edu", "")
    # No export, no actions, no change form with a list.
    assert 'name="action"' not in html
    detail = client.get(reverse("admin:followers_seriesfollowing_change", args=[series.pk]))
    assert detail.status_code == 200 and "ana@example.edu" not in detail.content.decode()


def test_another_series_is_a_404(client, series, followed, make_team_member):
    client.force_login(make_team_member(series, "alice"))

    assert client.get(reverse("admin:followers_seriesfollowing_change", args=[followed.pk])).status_code == 404


def test_organizers_do_not_see_followers_mail_in_the_outbox(series, followed, make_team_member):
    assert OutgoingMail.objects.filter(kind="followers.confirm").exists()

    visible = OutgoingMail.objects.managed_by(make_team_member(series, "alice"))

    assert not visible.filter(kind__startswith="followers.").exists()


def test_the_count_page_costs_a_fixed_number_of_queries(
    client, series, followed, admin_user, django_assert_max_num_queries
):
    client.force_login(admin_user)
    with django_assert_max_num_queries(8):
        assert client.get(reverse(CHANGELIST)).status_code == 200


def test_a_new_talk_is_announced_to_followers_unless_unticked(client, series, make_team_member):
    client.force_login(make_team_member(series, "alice"))

    form = client.get(reverse("admin:events_event_add") + f"?series={series.pk}").content.decode()

    assert 'name="announce_to_followers"' in form
    checkbox = (
        form.split('name="announce_to_followers"')[0].rsplit("<input", 1)[1]
        + form.split('name="announce_to_followers"')[1].split(">", 1)[0]
    )
    assert "checked" in checkbox
