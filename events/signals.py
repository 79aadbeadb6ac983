"""What other apps may hear about a talk, sent only after the change is committed (but for event_published).

`events` knows nothing about registrants: apps that do (registrations) connect
receivers here and react, e.g. by emailing updated calendar invites.
"""

from django.dispatch import Signal

# A published talk moved: its start, end or venue changed. Arguments: event,
# changed_fields (a frozenset of field names: "start", "end", "venue", and
# "stream_url" when the same save gave or changed the stream link of a talk
# with online attendance, which is then not announced by stream_changed too),
# previous_url (the stream link before the save, "" when there was none).
event_rescheduled = Signal()

# A talk was cancelled by the organizers. Argument: event.
event_cancelled = Signal()

# A cancelled talk was published again (straight away or through a draft): whoever
# heard it was cancelled should hear it is on. Argument: event.
event_reinstated = Signal()

# The stream link of a published talk with online attendance was given or
# changed, and neither its time nor its place (see event_rescheduled).
# Arguments: event, previous_url ("" when there was none).
stream_changed = Signal()

# A talk became public: created published, or published from a draft. Unlike
# the signals above it is sent inside the saving transaction, so a receiver's
# rows (the followers' announcement) commit or roll back with the publish.
# Argument: event.
event_published = Signal()
