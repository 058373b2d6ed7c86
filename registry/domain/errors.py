"""Errors a user can cause: each carries its HTTP status, the field at fault and a translated message."""

from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    status = 400

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    status = 400


class BadPageLink(InvalidInput):
    """A page link ("Next page", an API's next_cursor) that is not one of ours, or not for this list."""

    def __init__(self):
        super().__init__(_l("The page link is not valid. Start the search again."), "cursor")


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409
