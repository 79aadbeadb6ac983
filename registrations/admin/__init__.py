"""The registrations admin, one module per concern; importing them registers the admin classes."""

from . import events, registrations

__all__ = ["events", "registrations"]
