class StaffError(Exception):
    """A staff sign-in or team rule said no. `message` is written for the person who asked; `code` names the rule."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self):
        return self.message
