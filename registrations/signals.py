"""What other apps may hear about registrations, so that they need not be known here.

`personal_data_erased` is sent inside the transaction that erases people
(services.erase_personal_data): a receiver forgets what it keeps about them
(a feedback comment, say), committed or rolled back with the erasure.
Argument: registration_ids (a list of the erased registrations' ids).
"""

from django.dispatch import Signal

personal_data_erased = Signal()
