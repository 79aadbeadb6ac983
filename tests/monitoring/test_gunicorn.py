"""The metrics directory a gunicorn master keeps for its workers (its hooks, called as gunicorn.conf.py does)."""

import logging
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from monitoring import gunicorn

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


@pytest.fixture
def master(monkeypatch):
    monkeypatch.delenv(VARIABLE, raising=False)
    monkeypatch.delenv("GUNICORN_PID", raising=False)
    monkeypatch.setattr(gunicorn, "_created", None)
    return SimpleNamespace(log=logging.getLogger("tests.gunicorn"))


def test_without_a_directory_each_master_makes_its_own_and_removes_it(master, monkeypatch):
    gunicorn.on_starting(master)
    directory = Path(os.environ[VARIABLE])
    monkeypatch.delenv(VARIABLE)

    assert directory.is_dir()
    (directory / "counter_123.db").write_bytes(b"")
    gunicorn.on_exit(master)
    assert not directory.exists()


def test_a_given_directory_is_created_or_emptied_at_start_and_kept_at_exit(master, monkeypatch, tmp_path):
    directory = tmp_path / "metrics"
    monkeypatch.setenv(VARIABLE, str(directory))
    gunicorn.on_starting(master)
    assert directory.is_dir()

    (directory / "counter_123.db").write_bytes(b"from the last run")
    gunicorn.on_exit(master)
    gunicorn.on_starting(master)

    assert directory.is_dir()
    assert list(directory.iterdir()) == []


def test_a_master_started_by_usr2_shares_the_running_masters_directory(master, monkeypatch, tmp_path):
    monkeypatch.setenv(VARIABLE, str(tmp_path))
    monkeypatch.setenv("GUNICORN_PID", "4242")  # gunicorn sets it in the new master's environment
    counts = tmp_path / "counter_4243.db"
    counts.write_bytes(b"the old workers' counts")

    gunicorn.on_starting(master)

    assert counts.exists()


def test_an_exited_worker_is_marked_dead(master, monkeypatch, tmp_path):
    monkeypatch.setenv(VARIABLE, str(tmp_path))
    live = tmp_path / "gauge_livesum_77.db"
    live.write_bytes(b"")
    counts = tmp_path / "counter_77.db"
    counts.write_bytes(b"")

    gunicorn.child_exit(master, SimpleNamespace(pid=77))

    # Gauges of live processes go with it; its counts stay in the sums.
    assert not live.exists()
    assert counts.exists()
