"""What other apps may hear about a talk, sent only after the change is committed.

`events` knows nothing about registrants: apps that do (registrations) connect
receivers here and react, e.g. by emailing updated calendar invites.
"""

from django.dispatch import Signal

# A published talk moved: its start, end or venue changed, or it was taken back
# from cancelled. Arguments: event, changed_fields (a frozenset of field names).
event_rescheduled = Signal()

# A talk was cancelled by the organizers. Argument: event.
event_cancelled = Signal()

# The stream link of a published talk with online attendance was given or
# changed. Arguments: event, previous_url ("" when there was none).
stream_changed = Signal()
