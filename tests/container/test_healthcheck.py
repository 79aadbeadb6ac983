"""The container image's HEALTHCHECK script, against gunicorn as the image runs it."""

import importlib.util
import subprocess
import sys

import pytest

from tests.servers import BASE_DIR, free_port, production_environment, serve

SCRIPT = BASE_DIR / "container" / "healthcheck.py"


def healthcheck(environment: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, str(SCRIPT)], env=environment, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def healthz_url(monkeypatch):
    spec = importlib.util.spec_from_file_location("container_healthcheck", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def url(**environment):
        for name in ("PORT", "GUNICORN_BIND"):
            monkeypatch.delenv(name, raising=False)
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        return module.healthz_url()

    return url


def test_it_asks_the_address_gunicorn_conf_binds(healthz_url):
    assert healthz_url() == "http://127.0.0.1:8000/healthz"
    assert healthz_url(PORT="9000") == "http://127.0.0.1:9000/healthz"
    assert healthz_url(GUNICORN_BIND="0.0.0.0:9001", PORT="9000") == "http://127.0.0.1:9001/healthz"
    assert healthz_url(GUNICORN_BIND="[::]:9002") == "http://127.0.0.1:9002/healthz"
    assert healthz_url(GUNICORN_BIND="10.0.0.5:9003") == "http://10.0.0.5:9003/healthz"


def test_healthy_while_gunicorn_answers_200(static_root, tmp_path):
    # /healthz asks only whether the database answers: an empty SQLite file does.
    environment = production_environment(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", STATIC_ROOT=str(static_root)
    )
    with serve(environment, tmp_path / "gunicorn.log") as host:
        result = healthcheck(environment | {"PORT": host.url.rsplit(":", 1)[1]})

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("/healthz: 200")


def test_unhealthy_when_the_database_is_down(static_root, tmp_path):
    environment = production_environment(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/seminars", STATIC_ROOT=str(static_root)
    )
    with serve(environment, tmp_path / "gunicorn.log") as host:
        result = healthcheck(environment | {"GUNICORN_BIND": f"0.0.0.0:{host.url.rsplit(':', 1)[1]}"})

    assert result.returncode == 1
    assert result.stdout.strip().endswith("/healthz: 503")


def test_unhealthy_when_nothing_listens():
    result = healthcheck(production_environment(PORT=str(free_port())))

    assert result.returncode == 1
    assert "Connection refused" in result.stdout
