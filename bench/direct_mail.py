"""The email worker's baseline: build and send the same messages without the queue.

`python -m bench.direct_mail <event id> [<part> <parts>]` (run by the harness
with the benchmark environment) builds every queued message about the talk
(or the `part`-th of `parts` equal slices of them, from 0) with the same
builder the outbox uses and hands it to the same mailer, one by one, with no
claim, no status and no task: what sending costs by itself. The rows stay
pending, so the worker sends the very same messages.
"""

import json
import sys
import time

import django


def main(event_id: int, part: int = 0, parts: int = 1) -> None:
    django.setup()
    from django.core.mail import DEFAULT_MAILER_ALIAS, mailers

    from outbox import registry
    from outbox.models import OutgoingMail
    from registrations.models import Registration

    # Sent or not: the same messages as the worker's, whichever of the two runs first.
    mails = list(OutgoingMail.objects.about(Registration.objects.filter(event_id=event_id)).order_by("pk"))
    size = -(-len(mails) // parts)
    mails = mails[part * size : (part + 1) * size]
    mailer = mailers[DEFAULT_MAILER_ALIAS]
    stamps = []
    for mail in mails:
        message = registry.get_kind(mail.kind).build(mail)
        mailer.send_messages([message])
        stamps.append(time.perf_counter())
    # As for the worker: from the first message sent to the last, so start-up is not counted.
    print("BENCH " + json.dumps({"messages": len(stamps), "seconds": stamps[-1] - stamps[0] if stamps else 0}))


if __name__ == "__main__":
    main(*(int(argument) for argument in sys.argv[1:4]))
