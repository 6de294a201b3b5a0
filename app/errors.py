"""Domain errors raised by services and turned into clear 4xx answers.

The JSON body has the same shape as flask-smorest's validation errors, so an API client
reads one format: {"code", "status", "message", "errors": {"json": {field: [reason]}}}.
"""

from http import HTTPStatus


def N_(message: str) -> str:  # noqa: N802  (gettext's conventional name)
    """Marks a message for translation where it is raised; pages translate it when shown."""
    return message


class DomainError(Exception):
    """`message` is an English message id (marked with N_), with %(name)s placeholders
    filled from `params`. The API answers in English; pages show `translated()`."""

    status = 422

    def __init__(self, message: str, field: str | None = None, params: dict | None = None, **extra):
        self.message_id = message
        self.params = params or {}
        self.message = message % self.params if self.params else message
        super().__init__(self.message)
        self.field = field
        self.extra = extra

    def translated(self) -> str:
        from flask_babel import gettext

        text = gettext(self.message_id, **self.params)
        return text[:1].upper() + text[1:]  # a sentence on a page; ids are lower-case

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

    def __init__(self, message: str = N_("not found")):
        super().__init__(message)


class Forbidden(DomainError):
    status = 403
