"""JSON API: bearer tokens."""

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from app.accounts.schemas import TokenRequestSchema, TokenSchema
from app.audit.services import record_event
from app.auth import services
from app.extensions import db, limiter

blp = Blueprint("auth_api", __name__, url_prefix="/api/v1/auth", description="Bearer tokens")


@blp.route("/token")
class Token(MethodView):
    decorators = [limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])]

    @blp.arguments(TokenRequestSchema)
    @blp.response(201, TokenSchema)
    @blp.alt_response(401, description="wrong credentials or locked account")
    def post(self, data):
        """Exchange a username (or phone) and password for a bearer token"""
        try:
            user = services.authenticate(data["username"], data["password"])
        except services.SignInError as exc:
            db.session.commit()  # keep the failure count and any lock
            if exc.reason == "locked":
                abort(401, message="account locked after too many failed attempts; try later")
            abort(401, message="wrong username or password")
        token, row = services.issue_token(user)
        record_event("user", user.id, "user.token_issued", actor=user)
        return {"access_token": token, "token_type": "Bearer", "expires_at": row.expires_at}
