"""One transaction per request: services flush, the request commits (indico's way).

A response of 400 or more rolls back, so a refused request leaves nothing half-written.
A unique-constraint clash at commit (two requests racing) answers 409, not 500.
"""

from flask import Flask, Response, jsonify, render_template
from sqlalchemy.exc import IntegrityError

from app.auth_loader import is_api_request
from app.extensions import db


def conflict() -> Response:
    message = "the change clashes with another one made at the same time; reload and retry"
    if is_api_request():
        response = jsonify(code=409, status="Conflict", message=message)
        response.status_code = 409
        return response
    return Response(render_template("error.html", code=409, description=message), status=409)


def commit_or_rollback(response: Response) -> Response:
    if response.status_code >= 400:
        db.session.rollback()
        return response
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return conflict()
    return response


def register(app: Flask) -> None:
    app.after_request(commit_or_rollback)
