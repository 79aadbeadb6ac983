"""The lockout the issue measured, tried as a new user would: through gunicorn, behind one trusted proxy.

Twelve wrong passwords for an organizer, from twelve addresses (the proxy's X-Forwarded-For), used to
lock them out for 15 minutes. Now the owner signs in from their own address at once, every time.
"""

import sqlite3
import subprocess
import sys

import pytest
import requests

from tests.servers import BASE_DIR, CSRF_TOKEN, REQUEST_TIMEOUT, production_environment, proxy_headers, serve

PASSWORD = "correct horse battery"
CREATE = f"""
from django.contrib.auth import get_user_model
from events.models import Series, SeriesMember
series = Series.objects.create(name="IFML", slug="ifml", organizer_name="IFML", organizer_email="ifml@example.edu")
user = get_user_model().objects.create_user("olivia", "olivia@cs.utexas.example", {PASSWORD!r})
SeriesMember.objects.create(series=series, user=user)
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory, static_root, run_once):
    database = tmp_path_factory.mktemp("db") / "db.sqlite3"
    environment = production_environment(
        DATABASE_URL=f"sqlite:///{database}", STATIC_ROOT=str(static_root), TRUSTED_PROXY_COUNT="1"
    )
    for command in (["migrate", "--no-input", "-v", "0"], ["shell", "-c", CREATE]):
        result = subprocess.run(  # noqa: S603 - fixed argv
            [sys.executable, "manage.py", *command],
            cwd=BASE_DIR,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    return environment, database


def sign_in(host, password, *, client_ip):
    """A fresh browser at `client_ip` (the proxy appends it to X-Forwarded-For) posts the sign-in form."""
    login = f"{host.url}/admin/login/"
    # What the client claims for itself stays to the left: the site counts the proxy's entry.
    forwarded = {"X-Forwarded-For": f"10.9.8.7, {client_ip}"}
    page = requests.get(login, headers=proxy_headers(host, **forwarded), timeout=REQUEST_TIMEOUT)
    cookies = {"csrftoken": page.cookies["csrftoken"]}
    return requests.post(
        login,
        data={"csrfmiddlewaretoken": CSRF_TOKEN.search(page.text)[1], "username": "olivia", "password": password},
        headers=proxy_headers(host, cookies, **forwarded),
        allow_redirects=False,
        timeout=REQUEST_TIMEOUT,
    )


def test_wrong_passwords_from_many_addresses_never_stop_the_owner(site, tmp_path):
    environment, database = site
    with serve(environment, tmp_path / "gunicorn.log") as host:
        attacks = [sign_in(host, "guess", client_ip=f"198.51.100.{n}").status_code for n in range(1, 13)]
        own = sign_in(host, PASSWORD, client_ip="203.0.113.20")
        # The attack goes on (the same addresses again, then new ones); the owner is never stopped.
        again = [sign_in(host, "guess", client_ip=f"198.51.100.{n}").status_code for n in range(1, 4)]
        fresh = [sign_in(host, "guess", client_ip=f"192.0.2.{n}").status_code for n in range(1, 4)]
        own_again = sign_in(host, PASSWORD, client_ip="203.0.113.20")

    assert attacks == [200] * 12
    assert (own.status_code, own.headers["Location"]) == (302, "/admin/")
    assert "sessionid" in own.cookies
    assert again == [429] * 3  # each attacking address now waits, longer and longer
    assert fresh == [200] * 3
    assert (own_again.status_code, own_again.headers["Location"]) == (302, "/admin/")
    with sqlite3.connect(database) as db:
        warnings = db.execute("select recipient from outbox_outgoingmail where kind = 'staff.guessing'").fetchall()
        logged = dict(db.execute("select kind, count(*) from staff_auditentry group by kind").fetchall())
    assert warnings == [("olivia@cs.utexas.example",)]  # told once, through the outbox
    assert logged["sign_in_failed"] == 15
    assert logged["account_slowed"] == 1
    assert logged["signed_in"] == 2
