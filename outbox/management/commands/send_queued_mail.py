import logging
import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from monitoring import heartbeats
from outbox import registry
from outbox.delivery import sweep
from seminar_site import outage

logger = logging.getLogger(__name__)

# The name its heartbeat goes by (seminar_heartbeat_age_seconds{process="sweeper"}).
PROCESS = "sweeper"


class Command(BaseCommand):
    help = (
        "Queue the mail that has come due (reminders, digests) and do the apps' other due work (release "
        "seats held past their deadline), give up on messages a dead worker left "
        "half-sent, and hand due messages to the task worker. Run it every minute (cron), or with "
        "--every 60 as a process, which stops between two sweeps on SIGTERM and, like cron, sweeps "
        "again on time after a sweep that failed (the database away, say)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=0, metavar="SECONDS", help="Repeat forever at this interval.")

    def handle(self, *args, every=0, **options):
        stopping = threading.Event()
        if every:
            # A deploy stops the sweeper with SIGTERM. As a container's first process it
            # would not even die of it (PID 1 ignores signals it has no handler for), so
            # it is handled: the sweep under way finishes, and no other starts.
            previous = signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
        try:
            while True:
                if every:
                    self.sweep_or_log(every=every)
                else:
                    self.sweep_once(verbose=True)
                if not every or stopping.wait(every):
                    return
                # As before each request: a connection the database dropped since (a restart, a
                # failover) is replaced, not used again.
                close_old_connections()
        finally:
            if every:
                signal.signal(signal.SIGTERM, previous)

    def sweep_or_log(self, *, every):
        # As a process it must outlive what fails one sweep: a PostgreSQL restart would
        # otherwise end it (and, under honcho, the whole site). Its heartbeat stops meanwhile,
        # which the SweeperStopped alert watches.
        try:
            self.sweep_once(verbose=False)
        except Exception as error:
            if outage.database_unavailable(error):
                outage.noticed(error)  # logged once per outage
            else:
                logger.exception("The sweep failed; the next one starts in %s s", every)

    def sweep_once(self, *, verbose):
        queued = [(due, due.queue()) for due in registry.due_mail()]
        result = sweep()
        heartbeats.beat(process=PROCESS)
        if verbose or any(count for _, count in queued) or any(result.values()):
            parts = [f"{count} {due.label} {due.done}" for due, count in queued]
            parts.append(f"{result['enqueued']} messages handed to the worker")
            parts.append(f"{result['abandoned']} half-sent messages marked failed")
            self.stdout.write(", ".join(parts) + ".")
