"""Errors a user can cause: each carries its HTTP status, the field at fault and a translated message."""


class DomainError(Exception):
    status = 400

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    status = 400


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409
