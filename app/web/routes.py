"""The web shell: home pages by role, language and large-text switches, health, vendored files."""

from pathlib import Path

import flask_swagger_ui
import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user, login_required

from app.accounts import services as accounts
from app.extensions import db
from app.i18n import LANG_COOKIE, LARGE_TEXT_COOKIE
from app.web import home as home_pages

bp = Blueprint("web", __name__)

SWAGGER_DIST = Path(flask_swagger_ui.__file__).parent / "dist"
ONE_YEAR = 365 * 24 * 3600


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    return redirect(url_for("auth.login"))


@bp.get("/home")
@login_required
def home():
    template, context = home_pages.context_for(current_user)
    return render_template(template, **context)


def _back():
    target = request.form.get("next") or ""
    # Only local paths, so the switch cannot be used as an open redirect.
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("web.index")
    return redirect(target)


@bp.post("/preferences/language")
def set_language():
    lang = request.form.get("lang")
    if lang not in current_app.config["LANGUAGES"]:
        abort(400, description="lang: must be one of " + ", ".join(current_app.config["LANGUAGES"]))
    if current_user.is_authenticated:
        accounts.set_preferences(current_user, locale=lang)
        db.session.commit()
    response = _back()
    response.set_cookie(LANG_COOKIE, lang, max_age=ONE_YEAR, samesite="Lax", httponly=True)
    return response


@bp.post("/preferences/large-text")
def set_large_text():
    on = request.form.get("large_text") == "1"
    if current_user.is_authenticated:
        accounts.set_preferences(current_user, large_text=on)
        db.session.commit()
    response = _back()
    response.set_cookie(
        LARGE_TEXT_COOKIE, "1" if on else "0", max_age=ONE_YEAR, samesite="Lax", httponly=True
    )
    return response


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}


@bp.get("/vendor/swagger-ui/<path:filename>")
def swagger_ui_file(filename):
    """Swagger UI's files from the installed package: the API docs page needs no CDN."""
    return send_from_directory(SWAGGER_DIST, filename, max_age=ONE_YEAR)
