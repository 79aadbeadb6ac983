import pytest

from outbox.checks import check_sender_domain


@pytest.mark.parametrize(
    "sender",
    [
        "Seminars <seminars@localhost>",
        "seminars@example.com",
        "IFML Seminar <seminars@example.edu>",
        "seminars@mail.example.org",
        "seminars@example.ac.uk",
        "seminars@seminar.test",
        "seminars@host.local",
        "nobody",
    ],
)
def test_placeholder_sender_is_an_error_in_production(settings, sender):
    settings.DEBUG = False
    settings.DEFAULT_FROM_EMAIL = sender

    (error,) = check_sender_domain(None)

    assert error.id == "outbox.E001"
    assert error.is_serious()


@pytest.mark.parametrize(
    "sender", ["IFML Seminar <seminars@cs.utexas.edu>", "talks@examples.org", "a@xn--mnchen-3ya.de"]
)
def test_real_sender_domains_pass(settings, sender):
    settings.DEBUG = False
    settings.DEFAULT_FROM_EMAIL = sender

    assert check_sender_domain(None) == []


def test_development_may_send_from_localhost(settings):
    settings.DEBUG = True
    settings.DEFAULT_FROM_EMAIL = "Seminars <seminars@localhost>"

    assert check_sender_domain(None) == []
