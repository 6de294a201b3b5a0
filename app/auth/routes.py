"""Sign-in and sign-out pages."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.audit.services import record_event
from app.auth import services
from app.auth.forms import LoginForm
from app.extensions import db, limiter

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("web.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = LoginForm(next=request.args.get("next"))
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.identifier.data, form.password.data)
        except services.SignInError as exc:
            db.session.commit()  # keep the failure count and any lock
            if exc.reason == "locked":
                message = _(
                    "This account is locked after too many failed attempts. Try again later."
                )
            else:
                message = _("Wrong username, phone or password.")
            flash(message, "error")
            return render_template("auth/login.html", form=form), 401
        login_user(user)
        record_event("user", user.id, "user.signed_in", actor=user)
        db.session.commit()
        return redirect(_safe_next(form.next.data))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))
