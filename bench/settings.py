"""The production settings, plus what only the benchmarks serve.

`make bench` starts gunicorn with this module: every page goes through the
same middleware as in production, and two endpoints exist only here, as
baselines (bench/urls.py). Nothing in the production URLconf knows them.
"""

from seminar_site.settings import *  # noqa: F403
from seminar_site.settings import INSTALLED_APPS

# For the insert baseline's table, created by `migrate --run-syncdb` in the benchmark database only.
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
ROOT_URLCONF = "bench.urls"

# The email scenario sends to a local SMTP sink the harness starts (bench/stack.py).
if env.str("BENCH_SMTP_PORT", default=""):  # noqa: F405
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": env.int("BENCH_SMTP_PORT"), "timeout": 30},  # noqa: F405
        }
    }
