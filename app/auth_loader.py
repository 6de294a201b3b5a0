"""How a request is tied to a user: the session cookie (pages) or a bearer token (API)."""

from flask import jsonify, redirect, request, url_for
from flask_login import LoginManager

from app.extensions import csrf, db

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def register(login_manager: LoginManager) -> None:
    from app.accounts.models import User
    from app.auth.services import user_for_token

    @login_manager.user_loader
    def load_user(user_id: str):
        user = db.session.get(User, int(user_id))
        return user if user is not None and user.active else None

    @login_manager.request_loader
    def load_user_from_request(req):
        header = req.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return user_for_token(token.strip())
        return None

    @login_manager.unauthorized_handler
    def unauthorized():
        if is_api_request():
            response = jsonify(
                code=401, status="Unauthorized", message="sign in or send a bearer token"
            )
            response.status_code = 401
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        return redirect(url_for("auth.login", next=request.full_path))

    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"


def protect_session_api_calls() -> None:
    """A browser calling the API with its session cookie must send the CSRF token too."""
    from flask_login import current_user

    if (
        is_api_request()
        and request.method not in SAFE_METHODS
        and "Authorization" not in request.headers
        # the call API authenticates by the join link's token, not by the cookie
        and "X-Join-Token" not in request.headers
        and current_user.is_authenticated
    ):
        csrf.protect()
