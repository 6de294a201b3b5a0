"""Errors answer as JSON under /api/ and as a page elsewhere, always with a clear reason."""

from flask import Flask, jsonify, render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from app import transactions
from app.auth_loader import is_api_request
from app.errors import DomainError
from app.extensions import api, db

# What a page says for an HTTP error raised with werkzeug's own (English) description.
PAGE_REASONS = {
    400: _l("The request could not be understood. Go back and try again."),
    403: _l("Your account may not open this page."),
    404: _l("This page does not exist, or it is not one you may open."),
    405: _l("This page cannot be used that way. Go back and try again."),
    413: _l("What you sent is too large."),
    429: _l("Too many tries in a short time. Wait a minute, then try again."),
}
PAGE_REASON_OTHERWISE = _l(
    "Please try again in a few minutes. If it happens again, call the health centre."
)


def page_description(exc: HTTPException) -> str:
    """The reason a page shows: the one the code gave, else a translated standard one."""
    if exc.description and exc.description != type(exc).description:
        return exc.description
    return str(PAGE_REASONS.get(exc.code, PAGE_REASON_OTHERWISE))


def handle_http_exception(exc: HTTPException):
    if is_api_request():
        # flask-smorest format: {"code", "status", "message", "errors": {where: {field: [why]}}}
        response = api.handle_http_exception(exc)
        payload, code, headers = response if isinstance(response, tuple) else (response, None, {})
        if isinstance(payload, dict) and "message" not in payload and exc.description:
            payload["message"] = exc.description
        return payload, code, headers
    description = page_description(exc)
    return render_template("error.html", code=exc.code, description=description), exc.code


def handle_domain_error(exc: DomainError):
    if is_api_request():
        response = jsonify(exc.to_dict())
        response.status_code = exc.status
        return response
    return render_template("error.html", code=exc.status, description=exc.translated()), exc.status


def handle_integrity_error(_exc: IntegrityError):
    """A unique or foreign-key clash found by the database (two requests racing)."""
    db.session.rollback()
    return transactions.conflict()


def register(app: Flask) -> None:
    app.register_error_handler(IntegrityError, handle_integrity_error)
    # Registered after flask-smorest's own handler, so this one wins for pages and API alike.
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
