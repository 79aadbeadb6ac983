"""The site's one domain exception: a rule said no, in words for the person who asked.

Each app's services raise a subclass named after their concern
(RegistrationError, FeedbackError...), so a view catches what its own
services refuse and nothing else; every refusal carries the same two things:
the sentence to show (`message`, already translated) and the rule's name
(`code`, for code and tests to tell refusals apart).
"""


class DomainError(Exception):
    """A rule said no. `message` is written for the person who asked; `code` names the rule."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self):
        return self.message
