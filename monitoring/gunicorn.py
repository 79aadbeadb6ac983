"""The metrics directory of a gunicorn master (prometheus_client's multiprocess mode).

Each worker writes its counts to files of its own in PROMETHEUS_MULTIPROC_DIR,
and the worker that answers a scrape adds up the files of all of them,
including workers that have exited since (a count never goes back, whichever
worker made it). gunicorn.conf.py calls these hooks in the master, which never
imports Django:

- on_starting: use PROMETHEUS_MULTIPROC_DIR if it is set (emptied first, so
  counts of an earlier run are not added to this one), else a new temporary
  directory of this master's own. Before any worker starts: prometheus_client
  reads the variable when a worker first imports it.
- child_exit: prometheus_client's bookkeeping for a worker that exited.
- on_exit: the temporary directory is removed.

SIGHUP keeps the master and so the directory: counts go on across a reload.
A new master started by SIGUSR2 starts from an empty directory of its own
(counters reset, as after any restart, which Prometheus' rate() expects),
unless PROMETHEUS_MULTIPROC_DIR is set: then it shares the old master's
directory and does not empty it.
"""

import os
import shutil
import tempfile
from pathlib import Path

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

_created: str | None = None


def on_starting(server) -> None:
    global _created
    directory = os.environ.get(VARIABLE)
    if not directory:
        directory = _created = tempfile.mkdtemp(prefix="seminar-metrics-")
        os.environ[VARIABLE] = directory
    elif not os.environ.get("GUNICORN_PID"):  # set only in a master that SIGUSR2 started
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
    server.log.info("Metrics of the workers are kept in %s", directory)


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    if _created:
        shutil.rmtree(_created, ignore_errors=True)
