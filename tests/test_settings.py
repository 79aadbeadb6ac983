import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

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
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


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
