import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent


def run_manage(*args, **environment):
    # A clean environment, plus explicit values for everything a developer's
    # .env file could set: read_env never overrides variables already present.
    env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"}
    env |= {
        "SECURE_SSL_REDIRECT": "true",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
        "SECURE_HSTS_PRELOAD": "true",
        "DATABASE_URL": "sqlite:///:memory:",
        "PASSWORD_LOGIN": "true",
        "REQUIRE_2FA": "true",
        "SSO_PROVIDERS": "",
    }
    env |= environment
    return subprocess.run(  # noqa: S603 - fixed argv built here
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_secret():
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(50))


def test_deploy_check_passes_with_production_environment():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY=production_secret(),
        ALLOWED_HOSTS="x",
        SITE_URL="https://x",
        DEFAULT_FROM_EMAIL="IFML Seminar <seminars@cs.utexas.edu>",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_refuses_the_development_sender():
    result = run_manage(
        "check",
        "--deploy",
        DEBUG="false",
        SECRET_KEY=production_secret(),
        ALLOWED_HOSTS="x",
        SITE_URL="https://x",
        DEFAULT_FROM_EMAIL="Seminars <seminars@localhost>",
    )
    assert result.returncode != 0
    assert "outbox.E001" in result.stderr
    assert "DKIM" in result.stderr


def test_production_without_a_secret_key_fails_loudly():
    # An empty value stands for "missing" and also beats any SECRET_KEY in a local .env.
    result = run_manage("check", DEBUG="false", SECRET_KEY="", ALLOWED_HOSTS="x", SITE_URL="https://x")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_production_names_every_missing_variable():
    result = run_manage("check", DEBUG="false", SECRET_KEY="", ALLOWED_HOSTS="", SITE_URL="")
    assert result.returncode != 0
    assert "SECRET_KEY, ALLOWED_HOSTS, SITE_URL" in result.stderr


def production(**environment):
    return {
        "DEBUG": "false",
        "SECRET_KEY": production_secret(),
        "ALLOWED_HOSTS": "x",
        "SITE_URL": "https://x",
        "DEFAULT_FROM_EMAIL": "IFML Seminar <seminars@cs.utexas.edu>",
    } | environment


def test_deploy_check_passes_with_redis_for_the_cache():
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", **production(CACHE_URL="redis://127.0.0.1:6379/12")
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_redis_cache_url_selects_the_sites_redis_backend():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])",
        **production(CACHE_URL="redis://127.0.0.1:6379/12"),
    )
    assert result.stdout.splitlines()[-1] == "seminar_site.cache.RedisCache", result.stdout + result.stderr


@pytest.mark.parametrize("cache_url", ["locmemcache://", "dummycache://"])
def test_production_refuses_a_per_process_cache(cache_url):
    result = run_manage("check", **production(CACHE_URL=cache_url))
    assert result.returncode != 0
    assert "seminar_site.E001" in result.stderr
    assert "rate limits would count per worker" in result.stderr


def test_development_may_use_a_per_process_cache():
    result = run_manage("check", "--fail-level", "WARNING", DEBUG="true", CACHE_URL="locmemcache://")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_rate_that_is_not_a_rate_is_refused():
    result = run_manage("check", REGISTRATION_RATE_LIMIT="ten per hour")
    assert result.returncode != 0
    assert "seminar_site.E002" in result.stderr
    assert "REGISTRATION_RATE_LIMIT" in result.stderr


def test_the_admin_path_comes_from_the_environment():
    result = run_manage(
        "shell", "-c", "from django.urls import reverse; print(reverse('admin:index'))", ADMIN_PATH="/staff-only/"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "/staff-only/"


def test_links_signed_with_the_previous_secret_key_keep_working():
    old, new = production_secret(), production_secret()
    sign = "from django.core import signing; print(signing.Signer(salt='registrations.manage').sign('key'))"
    token = run_manage("shell", "-c", sign, **production(SECRET_KEY=old)).stdout.splitlines()[-1]
    unsign = f"from django.core import signing; print(signing.Signer(salt='registrations.manage').unsign({token!r}))"

    rotated = run_manage("shell", "-c", unsign, **production(SECRET_KEY=new, SECRET_KEY_FALLBACKS=old))
    forgotten = run_manage("shell", "-c", unsign, **production(SECRET_KEY=new))

    assert rotated.returncode == 0, rotated.stderr
    assert rotated.stdout.splitlines()[-1] == "key"
    assert forgotten.returncode != 0
    assert "BadSignature" in forgotten.stderr


def test_production_without_database_url_sets_up_the_default_sqlite_file(tmp_path):
    data_dir = tmp_path / "not-there-yet" / "var"
    environment = production(DATABASE_URL="", DATA_DIR=str(data_dir))

    result = run_manage("migrate", "--no-input", **environment)

    assert result.returncode == 0, result.stdout + result.stderr
    assert (data_dir / "db.sqlite3").is_file()
    tables = run_manage(
        "shell", "-c", "from django.db import connection; print(connection.introspection.table_names())", **environment
    )
    assert "django_cache" in tables.stdout  # the rate-limit store came with migrate


def test_production_stops_with_a_clear_message_when_the_sqlite_file_cannot_be_created():
    result = run_manage("check", **production(DATABASE_URL="", DATA_DIR="/proc/seminars/var"))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "No DATABASE_URL is set" in result.stderr
    assert "/proc/seminars/var" in result.stderr


def test_a_bad_hold_or_exempt_network_setting_stops_manage_py(tmp_path):
    result = run_manage("check", HOLD_DEMAND="half", RATE_LIMIT_EXEMPT_NETWORKS="10.0.0.0/8,campus")

    assert result.returncode != 0
    assert "registrations.E001" in result.stderr and "HOLD_DEMAND='half'" in result.stderr
    assert "seminar_site.E003" in result.stderr and "'campus' is not a network" in result.stderr


@pytest.mark.parametrize(
    ("environment", "threshold"),
    [
        # Connections are kept (CONN_MAX_AGE=60 by default): the hot statements are prepared on first use.
        ({}, "0"),
        ({"CONN_MAX_AGE": "0"}, "None"),
        ({"CONN_MAX_AGE": "0", "DATABASE_POOL": "true"}, "0"),
        # An older PgBouncer in transaction mode cannot carry prepared statements between its connections.
        ({"DATABASE_PREPARED_STATEMENTS": "false"}, "None"),
        ({"CONN_MAX_AGE": "0", "DATABASE_PREPARED_STATEMENTS": "true"}, "0"),
    ],
)
def test_postgresql_prepares_the_hot_statements_where_connections_are_kept(environment, threshold):
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'].get('prepare_threshold'))",
        **production(DATABASE_URL="postgres://seminars@db.example.edu:5432/seminars", **environment),
    )
    assert result.stdout.splitlines()[-1] == threshold, result.stdout + result.stderr


def test_sqlite_prepares_nothing():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'].get('prepare_threshold'))",
        **production(),
    )
    assert result.stdout.splitlines()[-1] == "None", result.stdout + result.stderr
