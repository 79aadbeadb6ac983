"""Backups restore: the pg_dump and pg_restore lines of docs/deploy.md, run as written, give a
database the site serves with the same talks, counts, self-service links and pending mail."""

import email
import email.policy
import html
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from outbox.models import OutgoingMail
from registrations.models import Registration
from tests.servers import BASE_DIR, REQUEST_TIMEOUT, production_environment

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PROXY = {"X-Forwarded-Proto": "https"}


def documented_commands() -> tuple[list[str], list[str]]:
    """The shell lines of "Backups and restore" in docs/deploy.md: (back up, restore)."""
    text = (BASE_DIR / "docs" / "deploy.md").read_text()
    section = text.split("\n## Backups and restore\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for block in re.findall(r"```sh\n(.*?)```", section, re.S) for line in block.splitlines()]
    backup = [line for line in lines if line.startswith("pg_dump ")]
    restore = [line for line in lines if line.startswith(("createdb ", "pg_restore ", 'DATABASE_URL="$RESTORED_URL" '))]
    assert len(backup) == 1 and len(restore) == 3, lines
    return backup, restore


def database_url(name: str) -> str:
    database = settings.DATABASES["default"]
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    host, port = database["HOST"] or "127.0.0.1", database["PORT"] or 5432
    return f"postgres://{database['USER']}{password}@{host}:{port}/{name}"


def run(lines: list[str], environment: dict[str, str]) -> None:
    for line in lines:
        result = subprocess.run(  # noqa: S603 - the documented lines, on the test's own databases
            ["/bin/bash", "-euo", "pipefail", "-c", line],
            cwd=BASE_DIR,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, f"{line}\n{result.stdout}{result.stderr}"


def figures(url: str) -> dict:
    """What a restore must keep, read straight from the database at `url`."""
    queries = {
        "talks": "SELECT slug, title, seats_taken FROM events_event ORDER BY slug",
        "registrations": "SELECT email, status FROM registrations_registration ORDER BY email",
        "mail": "SELECT kind, recipient, status FROM outbox_outgoingmail ORDER BY id",
        "tasks": "SELECT status, count(*) FROM django_tasks_database_dbtaskresult GROUP BY status ORDER BY status",
    }
    with psycopg.connect(url.replace("postgres://", "postgresql://")) as connection:
        return {name: connection.execute(sql).fetchall() for name, sql in queries.items()}


@pytest.fixture
def restored_database(require_postgres):
    """A database name of this test's own; dropped at the end, after the servers using it stopped."""
    name = f"{settings.DATABASES['default']['NAME']}_restored_{uuid.uuid4().hex[:8]}"
    yield name
    maintenance = database_url(settings.DATABASES["default"]["NAME"])
    dropdb = ["dropdb", f"--maintenance-db={maintenance}", "--if-exists", "--force", name]
    subprocess.run(dropdb, check=True, capture_output=True, timeout=120)  # noqa: S603 - PostgreSQL's client, on our own database


def test_a_documented_backup_restores_into_a_database_the_site_serves(
    restored_database, one_host, make_event, sign_up, settings, tmp_path
):
    # Email waits in the outbox with the worker's wake-up queued, as in production without a worker running.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    talk = make_event(capacity=2, waitlist_enabled=True)
    other = make_event(title="Another talk")
    registrations = [sign_up(talk, name=f"Person {n}", email=f"person{n}@example.edu") for n in range(3)]
    sign_up(other, name="Ana López", email="ana@example.edu")
    original_url = database_url(settings.DATABASES["default"]["NAME"])
    restored_url = database_url(restored_database)
    before = figures(original_url)
    assert [status for _, status in before["registrations"]].count("waitlisted") == 1
    assert {status for *_, status in before["mail"]} == {"pending"} and len(before["mail"]) == 4
    assert [status for status, _ in before["tasks"]] == ["READY"]  # sending them, and announcing the talks

    backup, restore = documented_commands()
    environment = production_environment(
        PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        SECRET_KEY=settings.SECRET_KEY,  # the same key: links already sent keep working
        DATABASE_URL=original_url,
        BACKUP=str(tmp_path / "seminars.dump"),
        RESTORED_DB=restored_database,
        RESTORED_URL=restored_url,
    )
    run(backup, environment)
    run(restore, environment)

    assert figures(restored_url) == before
    host = one_host(DATABASE_URL=restored_url, SECRET_KEY=settings.SECRET_KEY)
    home = host.session.get(f"{host.url}/", headers=PROXY, timeout=REQUEST_TIMEOUT)
    assert home.status_code == 200
    assert talk.title in html.unescape(home.text) and "Another talk" in home.text
    page = host.session.get(f"{host.url}{talk.get_absolute_url()}", headers=PROXY, timeout=REQUEST_TIMEOUT)
    assert page.status_code == 200
    for registration in registrations:
        own_page = host.session.get(f"{host.url}{registration.get_absolute_url()}", headers=PROXY, timeout=60)
        assert own_page.status_code == 200
        assert registration.name in own_page.text

    # The email worker on the restored database sends what was pending, with links that work there.
    mail_directory = tmp_path / "mail"
    worker = subprocess.run(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay"],
        cwd=BASE_DIR,
        env=environment
        | {
            "DATABASE_URL": restored_url,
            "MAIL_BACKEND": "seminar_site.mail.EmlFileBackend",
            "MAIL_FILE_PATH": str(mail_directory),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert worker.returncode == 0, worker.stdout + worker.stderr
    messages = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(mail_directory.glob("*.eml"))
    ]
    assert sorted(message["To"].addresses[0].addr_spec for message in messages) == sorted(
        recipient.split("<")[-1].rstrip(">") for _, recipient, _ in before["mail"]
    )
    for message in messages:
        link = re.search(r"https://seminars\.example\.edu(/r/[^/\s]+/)", message.get_body(("plain",)).get_content())
        response = host.session.get(f"{host.url}{link[1]}", headers=PROXY, timeout=REQUEST_TIMEOUT)
        assert response.status_code == 200
        assert message["To"].addresses[0].display_name in html.unescape(response.text)
    assert {status for *_, status in figures(restored_url)["mail"]} == {"sent"}
    # The database the backup came from is untouched.
    assert figures(original_url) == before
    assert OutgoingMail.objects.filter(status="pending").count() == 4
    assert Registration.objects.count() == 4
