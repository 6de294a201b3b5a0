"""Domain errors raised by services and turned into clear 4xx answers.

The JSON body has the same shape as flask-smorest's validation errors, so an API client
reads one format: {"code", "status", "message", "errors": {"json": {field: [reason]}}}.
"""

from http import HTTPStatus


class DomainError(Exception):
    status = 422

    def __init__(self, message: str, field: str | None = None, **extra):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra

    def to_dict(self) -> dict:
        body = {
            "code": self.status,
            "status": HTTPStatus(self.status).phrase,
            "message": self.message,
        }
        if self.field:
            body["errors"] = {"json": {self.field: [self.message]}}
        body.update(self.extra)
        return body


class InvalidInput(DomainError):
    status = 422


class Conflict(DomainError):
    """The request clashes with the current state (a duplicate, a wrong transition)."""

    status = 409


class NotFound(DomainError):
    """Absent, or present but not visible to this user: the two answer alike."""

    status = 404

    def __init__(self, message: str = "not found"):
        super().__init__(message)


class Forbidden(DomainError):
    status = 403
