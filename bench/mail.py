"""The email worker: queued confirmations sent by one `db_worker`, against building and sending them directly."""

import json
import subprocess
import sys

from django.db.models import Max, Min

from outbox.models import OutgoingMail
from registrations.models import Registration

from . import stack


def pending_for(event):
    return OutgoingMail.objects.about(Registration.objects.filter(event=event)).filter(
        status=OutgoingMail.Status.PENDING
    )


def set_aside_queued_mail() -> None:
    """Earlier scenarios queued mail too: the worker must find only the messages queued after this."""
    from django_tasks_db.models import DBTaskResult

    OutgoingMail.objects.filter(status=OutgoingMail.Status.PENDING).update(
        status=OutgoingMail.Status.SKIPPED, last_error="set aside by the benchmark"
    )
    DBTaskResult.objects.all().delete()


def direct(env, event, *, part: int = 0, parts: int = 1) -> tuple[int, float]:
    """(messages, seconds from the first sent to the last) without the queue, in a process of its own.

    With `parts`, only the `part`-th slice of the messages (from 0).
    """
    result = subprocess.run(
        [sys.executable, "-m", "bench.direct_mail", str(event.pk), str(part), str(parts)],
        cwd=stack.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    for line in result.stdout.splitlines():
        if line.startswith("BENCH "):
            data = json.loads(line.removeprefix("BENCH "))
            return data["messages"], data["seconds"]
    raise RuntimeError(f"bench.direct_mail printed no result:\n{result.stdout}\n{result.stderr}")


def worker(env, event, expected: int) -> tuple[int, float]:
    """(messages sent, seconds from the first sent to the last) by one `db_worker` until the queue is empty."""
    result = subprocess.run(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay", "--no-reload"],
        cwd=stack.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"db_worker failed:\n{result.stdout}\n{result.stderr}")
    sent = OutgoingMail.objects.about(Registration.objects.filter(event=event)).filter(status=OutgoingMail.Status.SENT)
    span = sent.aggregate(first=Min("sent_at"), last=Max("sent_at"))
    seconds = (span["last"] - span["first"]).total_seconds() if span["first"] else 0.0
    return sent.count(), seconds
