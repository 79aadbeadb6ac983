"""The admin's menu: the talks first, plumbing (accounts, task queue, the outbox's rows) for superusers only."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def menu(client, user):
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    return [
        (app["app_label"], [model["object_name"] for model in app["models"]]) for app in response.context["app_list"]
    ]


def test_superusers_see_the_talks_first_and_plumbing_last(client, team):
    apps = menu(client, team["root"])
    assert apps[0] == ("events", ["Event", "Series", "Speaker", "Venue"])
    assert [label for label, _models in apps[1:3]] == ["registrations", "mailings"]
    assert [label for label, _models in apps[-3:]] == ["outbox", "auth", "django_tasks_database"]


def test_organizers_never_see_plumbing_in_the_menu(client, team):
    apps = menu(client, team["ana"])
    labels = [label for label, _models in apps]
    assert labels[0] == "events"
    assert not {"outbox", "auth", "django_tasks_database"} & set(labels)
    # The outbox's own page is gone; their series' failed emails stay one click from the dashboard.
    assert client.get(reverse("admin:app_list", args=["outbox"])).status_code == 404
    assert client.get(reverse("admin:outbox_outgoingmail_changelist") + "?status__exact=failed").status_code == 200


def test_door_staff_are_sent_from_the_admin_to_their_door_pages(client, team):
    client.force_login(team["door"])
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"] == reverse("checkin:index")
