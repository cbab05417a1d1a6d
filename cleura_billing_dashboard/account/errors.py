"""The refusals of the account rules."""


class AccountError(Exception):
    """A change the rules refuse.

    ``message`` is for the user (a lazy translation), ``code`` a stable
    identifier for programs, ``field`` the form field at fault or None.
    """

    def __init__(self, message, code, field=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field

    def __str__(self):
        return str(self.message)


class InvalidFields(AccountError):
    """Several fields are wrong; ``errors`` maps each field to a message."""

    def __init__(self, errors):
        first = next(iter(errors.values()))
        super().__init__(first, 'invalid', next(iter(errors)))
        self.errors = errors


class NotFound(AccountError):
    """The contact or phone named by id is not in the document."""


class CorruptDocument(AccountError):
    """The stored document cannot be read by this version of the plugin."""
