"""gunicorn settings, read by `gunicorn seminar_site.wsgi` from the project root (see Procfile).

Every value can be set from the environment; the defaults suit one host.
"""

import math
import os
from pathlib import Path

from monitoring import gunicorn as metrics_directory


def cpus(cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """The CPUs this process may use: those it may run on, fewer under a CPU quota (a container's
    --cpus, a Kubernetes limit), of which the count of the host's CPUs knows nothing."""
    # os.process_cpu_count() from Python 3.13 on; the same on Linux before it.
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text().split()
        return max(1, min(count, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):  # no cgroup v2 file, or "max": no quota
        return count


bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# The usual rule for sync workers: two per core plus one.
workers = int(os.environ.get("WEB_CONCURRENCY") or cpus() * 2 + 1)
# More than one thread per worker switches gunicorn to its threaded worker.
threads = int(os.environ.get("GUNICORN_THREADS") or 1)
# A request running longer than this is stuck: the worker is restarted.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
# On SIGTERM (deploys, scaling in), requests in flight get this long to finish;
# so do the old workers' requests on SIGHUP and the old master's after SIGUSR2.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT") or 30)
# Each worker imports the site itself, so SIGHUP (new workers, then the old ones
# stopped gracefully) loads a new release's code. With preload_app the master
# would hold the old code and HUP would restart the old release.
preload_app = False
# One listening socket, opened by the master and shared by old and new workers
# (and handed to a new master on SIGUSR2): connections wait in its queue while
# workers change, and none is refused. With SO_REUSEPORT every process could
# have a queue of its own, and the connections waiting in a closing one are reset.
reuse_port = False
# Above the proxy's idle timeout towards us is not needed; below it avoids resets.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE") or 5)
# No control socket: nothing here uses gunicornc, and gunicorn (25.1+) would otherwise open one at
# $XDG_RUNTIME_DIR/gunicorn.ctl or ~/.gunicorn/gunicorn.ctl, one path for every gunicorn of the user
# (the old and new masters of a SIGUSR2 upgrade, several sites on a host).
control_socket_disable = True
# Recycle workers now and then so a slow leak never grows; jitter keeps them from restarting together.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS") or 2000)
max_requests_jitter = max_requests // 10

# Both logs to stdout, one line per request, named by the request id the site
# sets (and passes on from the proxy's X-Request-ID); /healthz is not logged.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
logger_class = "seminar_site.logs.AccessLogger"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms [%({x-request-id}o)s] "%(a)s"'

# prometheus_client's multiprocess mode: every worker writes its counts to one
# directory, which a scrape of /metrics adds up (monitoring/gunicorn.py).
on_starting = metrics_directory.on_starting
child_exit = metrics_directory.child_exit
on_exit = metrics_directory.on_exit
