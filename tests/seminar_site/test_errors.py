import pytest

from feedback.services import FeedbackError
from followers.services import FollowError
from mailings.services import MailingError
from materials.services import MaterialsError
from registrations.services import RegistrationError
from seminar_site.errors import DomainError
from speaker_edits.services import SpeakerEditError
from staff.services import StaffError
from terms.services import TermImportError

REFUSALS = [FeedbackError, FollowError, MailingError, MaterialsError, RegistrationError, SpeakerEditError, StaffError]


@pytest.mark.parametrize("refusal", REFUSALS)
def test_every_apps_refusal_is_the_domain_exception_with_its_sentence_and_rule(refusal):
    error = refusal("Registration for this talk has closed.", code="closed")

    assert isinstance(error, DomainError)
    assert str(error) == error.message == "Registration for this talk has closed."
    assert error.code == "closed"


def test_a_term_that_cannot_be_imported_is_refused_the_same_way():
    # Built from the plan of the rows; its message and code are asserted in tests/terms/test_import.py.
    assert issubclass(TermImportError, DomainError)
