"""gunicorn settings, read by `gunicorn seminar_site.wsgi` from the project root (see Procfile).

Every value can be set from the environment; the defaults suit one host.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# The usual rule for sync workers: two per core plus one.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
# More than one thread per worker switches gunicorn to its threaded worker.
threads = int(os.environ.get("GUNICORN_THREADS") or 1)
# A request running longer than this is stuck: the worker is restarted.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
# On SIGTERM (deploys, scaling in), requests in flight get this long to finish.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT") or 30)
# Above the proxy's idle timeout towards us is not needed; below it avoids resets.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE") or 5)
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
