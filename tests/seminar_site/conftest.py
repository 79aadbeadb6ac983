import pytest


@pytest.fixture
def database_away(monkeypatch):
    """/healthz finds the database unreachable (every other page still reaches it); no outage noticed yet."""
    from seminar_site import health, outage

    from .failing_urls import unreachable_database_error

    class Unreachable:
        def cursor(self):
            raise unreachable_database_error()

        def close(self):
            pass

    monkeypatch.setattr(outage, "_outage", outage._Outage())
    monkeypatch.setattr(health, "connection", Unreachable())
