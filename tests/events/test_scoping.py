"""A team per series: two series, two organizers, a door keeper; nobody sees the other series' objects."""

import csv
import io

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from events.models import Event, Series, SeriesMember, Speaker, Venue
from outbox.models import OutgoingMail
from registrations import services
from registrations.models import Registration
from tests.admin_forms import event_form_data

pytestmark = pytest.mark.django_db


class World:
    """Series Alpha (organizer alice, door keeper dora) and series Beta (organizer bob)."""


@pytest.fixture
def world(series, venue, speaker, make_event, make_team_member, sign_up):
    w = World()
    w.alpha = series
    Series.objects.filter(pk=series.pk).update(name="Alpha Seminar")
    w.alpha.refresh_from_db()
    w.beta = Series.objects.create(
        name="Beta Seminar", slug="beta-seminar", organizer_name="Beta team", organizer_email="beta@beta.example"
    )
    w.alice = make_team_member(w.alpha, "alice")
    w.bob = make_team_member(w.beta, "bob")
    w.dora = make_team_member(w.alpha, "dora", role=SeriesMember.Role.DOOR)
    w.alpha_talk = make_event(title="Alpha talk", slug="alpha-talk")
    w.alpha_draft = make_event(title="Alpha draft", slug="alpha-draft", status=Event.Status.DRAFT)
    w.beta_talk = make_event(series=w.beta, title="Beta talk", slug="beta-talk")
    w.beta_draft = make_event(series=w.beta, title="Beta draft", slug="beta-draft", status=Event.Status.DRAFT)
    # A speaker announced only in Beta's draft is Beta's secret.
    w.secret_speaker = Speaker.objects.create(name="Secret Betaspeaker", affiliation="Beta Lab")
    w.beta_draft.speakers.set([w.secret_speaker])
    w.ana = sign_up(w.alpha_talk, name="Ana Alpha", email="ana@alpha.example", affiliation="Alpha Lab")
    w.bea = sign_up(w.beta_talk, name="Bea Beta", email="bea@beta.example", affiliation="Beta Lab")
    w.beta_mail = OutgoingMail.objects.about(w.bea).get()
    w.alpha_mail = OutgoingMail.objects.about(w.ana).get()
    return w


def login(client, user):
    client.force_login(user)
    return client


def page(response):
    assert response.status_code == 200, response.status_code
    return response.content.decode()


CHANGELISTS = {
    "series": "/admin/events/series/",
    "event": "/admin/events/event/",
    "speaker": "/admin/events/speaker/",
    "registration": "/admin/registrations/registration/",
    "outgoingmail": "/admin/outbox/outgoingmail/",
}


@pytest.mark.parametrize("model", CHANGELISTS)
def test_changelist_shows_only_the_organizers_series(world, client, model):
    html = page(login(client, world.alice).get(CHANGELISTS[model]))

    assert "Beta" not in html
    assert "beta" not in html.lower()


@pytest.mark.parametrize("model", CHANGELISTS)
def test_changelist_search_never_finds_the_other_series(world, client, model):
    login(client, world.alice)

    beta = client.get(CHANGELISTS[model], {"q": "beta"})
    alpha = client.get(CHANGELISTS[model], {"q": "alpha"})

    assert beta.status_code == 200
    assert beta.context["cl"].result_count == 0
    assert list(beta.context["cl"].result_list) == []
    if model != "speaker":  # the shared speaker is named after neither series
        assert alpha.context["cl"].result_count >= 1


@pytest.mark.parametrize("model", CHANGELISTS)
def test_superuser_sees_both_series(world, admin_client, model):
    html = page(admin_client.get(CHANGELISTS[model], {"q": "beta"}))
    assert admin_client.get(CHANGELISTS[model], {"q": "beta"}).context["cl"].result_count >= 1
    assert "Beta" in html or "beta" in html


def beta_objects(world):
    return {
        "series": world.beta,
        "event": world.beta_draft,
        "speaker": world.secret_speaker,
        "registration": world.bea,
        "outgoingmail": world.beta_mail,
    }


@pytest.mark.parametrize("model", CHANGELISTS)
@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_other_series_object_by_url_is_not_found(world, client, model, view):
    obj = beta_objects(world)[model]
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_{view}", args=[obj.pk])

    assert login(client, world.alice).get(url).status_code == 404
    assert client.post(url, {"post": "yes"}).status_code == 404
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_own_objects_by_url_open(world, client):
    login(client, world.alice)
    for obj in (world.alpha, world.alpha_draft, world.ana, world.alpha_mail):
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
        assert client.get(url).status_code == 200


def test_unknown_and_foreign_ids_get_the_same_answer(world, client):
    login(client, world.alice)
    missing = client.get(reverse("admin:registrations_registration_change", args=[999999]))
    foreign = client.get(reverse("admin:registrations_registration_change", args=[world.bea.pk]))
    assert missing.status_code == foreign.status_code == 404


def test_only_the_talks_organizers_may_cancel_it(world, client, django_capture_on_commit_callbacks):
    url = reverse("admin:events_event_cancel", args=[world.alpha_talk.pk])
    login(client, world.bob)

    with django_capture_on_commit_callbacks(execute=True):
        asked = client.get(url)
        posted = client.post(url, {"note": "Not your talk."})

    assert asked.status_code == posted.status_code == 404
    assert Event.objects.get(pk=world.alpha_talk.pk).status == Event.Status.PUBLISHED
    assert not OutgoingMail.objects.filter(kind="registrations.event_cancelled").exists()
    # Door staff never reach the admin (staff.middleware sends them to the door).
    assert login(client, world.dora).post(url, {"note": "Not your talk."})["Location"] == reverse("checkin:index")
    assert Event.objects.get(pk=world.alpha_talk.pk).status == Event.Status.PUBLISHED
    assert login(client, world.alice).get(url).status_code == 200


# Actions and the CSV export


def run_action(client, url, action, objects):
    # Confirmed where the action asks first (cancel, erase): the selection itself must be scoped.
    return client.post(url, {"action": action, "_selected_action": [obj.pk for obj in objects], "confirmed": "yes"})


@pytest.mark.parametrize("action", ["cancel_registrations", "promote_from_waitlist", "check_in", "erase_personal_data"])
def test_registration_actions_leave_the_other_series_alone(world, client, action):
    login(client, world.alice)
    before = Registration.objects.filter(pk=world.bea.pk).values().get()

    run_action(client, CHANGELISTS["registration"], action, [world.bea])

    assert Registration.objects.filter(pk=world.bea.pk).values().get() == before


def test_promote_action_never_touches_the_other_series_waiting_list(world, client, sign_up):
    Event.objects.filter(pk=world.beta_talk.pk).update(capacity=1)
    waiting = sign_up(world.beta_talk)
    Event.objects.filter(pk=world.beta_talk.pk).update(capacity=2)
    login(client, world.alice)

    run_action(client, CHANGELISTS["registration"], "promote_from_waitlist", [world.ana, waiting])

    assert Registration.objects.get(pk=waiting.pk).status == Registration.Status.WAITLISTED


def test_check_in_action_reaches_own_registrations_only(world, client):
    login(client, world.alice)

    run_action(client, CHANGELISTS["registration"], "check_in", [world.ana, world.bea])

    assert Registration.objects.get(pk=world.ana.pk).checked_in_at is not None
    assert Registration.objects.get(pk=world.bea.pk).checked_in_at is None


def test_csv_export_contains_only_own_registrations(world, client):
    login(client, world.alice)

    response = run_action(client, CHANGELISTS["registration"], "export_csv", [world.ana, world.bea])

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [row[2] for row in rows[1:]] == ["Ana Alpha"]


def test_event_delete_action_leaves_the_other_series_alone(world, client):
    login(client, world.alice)

    client.post(
        CHANGELISTS["event"], {"action": "delete_selected", "_selected_action": [world.beta_draft.pk], "post": "yes"}
    )

    assert Event.objects.filter(pk=world.beta_draft.pk).exists()


def test_send_again_leaves_the_other_series_outbox_alone(world, client):
    OutgoingMail.objects.filter(pk=world.beta_mail.pk).update(status=OutgoingMail.Status.FAILED)
    login(client, world.alice)

    run_action(client, CHANGELISTS["outgoingmail"], "send_again", [world.beta_mail])

    assert OutgoingMail.objects.get(pk=world.beta_mail.pk).status == OutgoingMail.Status.FAILED


# Filters, autocomplete and form choices


def filter_choices(response, title):
    specs = [spec for spec in response.context["cl"].filter_specs if str(spec.title) == title]
    return {str(label) for spec in specs for _, label in spec.lookup_choices}


def test_related_filters_list_only_own_series_objects(world, client, make_event, sign_up):
    # A filter with a single choice is hidden: give Alpha a second talk with registrants.
    sign_up(make_event(title="Alpha second talk", slug="alpha-second"))
    make_event(series=world.beta, title="Beta second talk", slug="beta-second")
    login(client, world.alice)

    events = filter_choices(client.get(CHANGELISTS["registration"]), "talk")
    series = filter_choices(client.get(CHANGELISTS["event"]), "series")

    assert events == {"Alpha talk", "Alpha draft", "Alpha second talk"}
    assert series == set()  # one series of one's own: nothing to filter by


def test_filtering_by_a_foreign_id_shows_nothing(world, client):
    login(client, world.alice)
    response = client.get(CHANGELISTS["registration"], {"event__id__exact": world.beta_talk.pk})
    assert world.bea not in response.context["cl"].result_list


def autocomplete(client, term=""):
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "events", "model_name": "event", "field_name": "speakers", "term": term},
    )
    assert response.status_code == 200
    return {result["text"] for result in response.json()["results"]}


def test_speaker_autocomplete_hides_another_series_secret(world, client, admin_client):
    login(client, world.alice)

    assert not any("Secret" in text for text in autocomplete(client))
    assert autocomplete(client, "secret") == set()
    assert any("Atlas Wang" in text for text in autocomplete(client, "atlas"))
    assert any("Secret" in text for text in autocomplete(admin_client, "secret"))


def test_event_add_form_offers_only_own_series(world, client):
    login(client, world.alice)
    form = client.get("/admin/events/event/add/").context["adminform"].form
    assert list(form.fields["series"].queryset) == [world.alpha]


def test_event_cannot_be_created_in_or_moved_to_another_series(world, client, speaker):
    login(client, world.alice)
    data = event_form_data(
        series=world.beta,
        venue=world.alpha_talk.venue,
        speakers=[speaker],
        start=world.alpha_talk.start,
        end=world.alpha_talk.end,
        slug="sneaky",
    )

    response = client.post("/admin/events/event/add/", data)

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Event.objects.filter(slug="sneaky").exists()


def test_registration_add_form_offers_only_own_talks(world, client):
    login(client, world.alice)

    form = client.get("/admin/registrations/registration/add/").context["adminform"].form
    response = client.post(
        "/admin/registrations/registration/add/",
        {"event": world.beta_talk.pk, "name": "Sneaky", "email": "sneaky@example.edu", "affiliation": ""},
    )

    assert set(form.fields["event"].queryset) == {world.alpha_talk, world.alpha_draft}
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Registration.objects.filter(email="sneaky@example.edu").exists()


def test_narrowing_a_declared_field_for_one_user_does_not_narrow_it_for_the_next(world, client, admin_client):
    login(client, world.alice)
    client.get("/admin/registrations/registration/add/")

    form = admin_client.get("/admin/registrations/registration/add/").context["adminform"].form

    assert world.beta_talk in form.fields["event"].queryset


# Shared speakers and venues


def test_speaker_or_venue_used_by_another_series_is_read_only(world, client, speaker, venue):
    login(client, world.alice)
    world.beta_talk.speakers.set([speaker])  # Atlas Wang speaks in both series

    speaker_page = client.get(reverse("admin:events_speaker_change", args=[speaker.pk]))
    renamed = client.post(reverse("admin:events_venue_change", args=[venue.pk]), {"room": "Renamed"})

    assert speaker_page.status_code == 200
    assert 'name="name"' not in speaker_page.content.decode()
    assert renamed.status_code == 403
    assert Venue.objects.get(pk=venue.pk).room == "GDC 6.302"


def test_a_speaker_only_alpha_uses_is_editable_by_alpha(world, client):
    own = Speaker.objects.create(name="Own Speaker")
    world.alpha_draft.speakers.add(own)
    login(client, world.alice)

    response = client.get(reverse("admin:events_speaker_change", args=[own.pk]))

    assert 'name="name"' in response.content.decode()


# The team and its roles


def test_team_is_set_by_superusers_and_only_shown_to_organizers(world, client, admin_client):
    alpha_page = page(login(client, world.alice).get(reverse("admin:events_series_change", args=[world.alpha.pk])))
    admin_page = page(admin_client.get(reverse("admin:events_series_change", args=[world.alpha.pk])))

    assert "dora" in alpha_page
    assert 'name="members-0-role"' not in alpha_page
    assert 'name="members-0-role"' in admin_page


def test_organizer_who_creates_a_series_runs_it(world, client):
    login(client, world.alice)

    response = client.post(
        "/admin/events/series/add/",
        {
            "name": "Gamma Seminar",
            "slug": "gamma",
            "description": "",
            "organizer_name": "Alice",
            "organizer_email": "alice@example.edu",
            "default_duration_minutes": "60",
            "members-TOTAL_FORMS": "0",
            "members-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    gamma = Series.objects.get(slug="gamma")
    assert list(Series.objects.managed_by(world.alice)) == [world.alpha, gamma]


def test_door_staff_reach_nothing_in_the_admin(world, client):
    login(client, world.dora)

    # Door staff only: every admin page sends them to the door (staff.middleware).
    door = reverse("checkin:index")
    index = client.get("/admin/")
    assert (index.status_code, index["Location"]) == (302, door)
    for url in CHANGELISTS.values():
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, door)
    response = client.get(reverse("admin:registrations_registration_change", args=[world.ana.pk]))
    assert (response.status_code, response["Location"]) == (302, door)
    assert list(Group.objects.filter(user=world.dora).values_list("name", flat=True)) == ["Door staff"]
    assert world.dora.has_perm("registrations.check_in_registration")


def test_door_staff_and_organizers_scope_by_role(world):
    assert list(Event.objects.managed_by(world.dora)) == []
    assert set(Event.objects.managed_by(world.dora, roles=["organizer", "door"])) == {
        world.alpha_talk,
        world.alpha_draft,
    }
    assert set(Registration.objects.managed_by(world.alice)) == {world.ana}
    assert set(Registration.objects.managed_by(world.bob)) == {world.bea}


def test_an_inactive_or_non_staff_member_sees_nothing(world):
    world.alice.is_active = False
    assert list(Event.objects.managed_by(world.alice)) == []
    world.bob.is_staff = False
    assert list(Series.objects.managed_by(world.bob)) == []


# "View on site" and the public pages


def view_on_site(client, obj):
    content_type = ContentType.objects.get_for_model(obj)
    return client.get(reverse("admin:view_on_site", args=[content_type.pk, obj.pk]))


def test_view_on_site_never_hands_out_another_series_registration_link(world, client):
    login(client, world.alice)

    assert view_on_site(client, world.bea).status_code == 404
    own = view_on_site(client, world.ana)
    assert own.status_code == 302
    assert own["Location"] == world.ana.get_absolute_url()


def test_view_on_site_for_door_staff_hands_out_nothing(world, client):
    login(client, world.dora)
    response = view_on_site(client, world.ana)
    assert (response.status_code, response["Location"]) == (302, reverse("checkin:index"))


def test_drafts_are_previewed_by_their_own_series_only(world, client):
    login(client, world.bob)

    assert client.get(world.alpha_draft.get_absolute_url()).status_code == 404
    assert client.get(world.beta_draft.get_absolute_url()).status_code == 200
    assert "Alpha draft" not in page(client.get(world.alpha.get_absolute_url()))


def test_cancelling_through_services_is_not_affected_by_scoping(world):
    # Scoping narrows what staff see, never what the services may do.
    services.cancel_registration(registration=world.bea)
    assert Registration.objects.get(pk=world.bea.pk).status == Registration.Status.CANCELLED
