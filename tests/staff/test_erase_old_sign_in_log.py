import datetime

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from staff import audit
from staff.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def entries(organizer):
    """One log entry per age in days, newest first: {age: entry}."""
    AuditEntry.objects.all().delete()  # making the organizer logged a team change: only these count here
    now = timezone.now()
    made = {}
    for age in (0, 364, 366, 800):
        entry = audit.record(AuditEntry.Kind.SIGNED_IN, user=organizer, method="password")
        AuditEntry.objects.filter(pk=entry.pk).update(at=now - datetime.timedelta(days=age))
        made[age] = entry
    return made


def test_entries_older_than_the_retention_are_deleted_and_the_rest_kept(entries, settings, capsys):
    settings.SIGN_IN_LOG_RETENTION_DAYS = 365

    call_command("erase_old_sign_in_log")

    assert set(AuditEntry.objects.values_list("pk", flat=True)) == {entries[0].pk, entries[364].pk}
    assert "Deleted 2 sign-in and team log entries older than 365 days." in capsys.readouterr().out


def test_days_overrides_the_setting_and_a_dry_run_deletes_nothing(entries, capsys):
    call_command("erase_old_sign_in_log", "--days", "30", "--dry-run")

    assert AuditEntry.objects.count() == 4
    assert "3 sign-in and team log entries older than 30 days would be deleted." in capsys.readouterr().out
    with pytest.raises(CommandError, match="zero or more"):
        call_command("erase_old_sign_in_log", "--days", "-1")


def test_many_entries_go_in_batches(entries):
    erased = audit.erase_entries_before(cutoff=timezone.now() - datetime.timedelta(days=1), batch_size=1)

    assert erased == 3
    assert list(AuditEntry.objects.values_list("pk", flat=True)) == [entries[0].pk]
