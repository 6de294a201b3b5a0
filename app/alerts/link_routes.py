"""The page a one-tap acknowledge link opens (/a/<token>), on a phone, without signing in.

GET only shows: mail scanners and link previews fetch links, and must not acknowledge
anything. The big button POSTs to the same address, and that acknowledges, as the user the
link was sent to (or as the on-call contact). Expired: 410 and the way on (sign in);
tampered or unknown: 404, like any other address that does not exist.
"""

from __future__ import annotations

from contextlib import nullcontext

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import force_locale
from flask_login import current_user

from app.accounts.models import User
from app.alerts import delivery, links, services
from app.alerts.models import Alert, AlertStatus
from app.errors import Conflict
from app.extensions import csrf, db
from app.i18n import LANG_COOKIE, LARGE_TEXT_COOKIE, large_text_enabled
from app.policy import can_see_resident

bp = Blueprint("alert_links", __name__, url_prefix="/a", template_folder="templates")

GONE = 410


class _Link:
    """What a valid token names, checked against the database as it is now."""

    def __init__(self, token: str):
        try:
            self.link = links.read_token(token)
        except links.LinkExpired as expired:
            abort(_expired(expired.alert_id))
        except links.LinkInvalid:
            abort(404)
        self.alert = db.session.get(Alert, self.link.alert_id)
        user_id = self.link.user_id
        self.user = db.session.get(User, user_id) if user_id is not None else None
        if self.alert is None or (self.link.user_id is not None and not self._user_may_see()):
            abort(404)  # the account was closed, or the caregiver's link ended, since

    def _user_may_see(self) -> bool:
        user = self.user
        return bool(user and user.active and can_see_resident(user, self.alert.resident_id))

    @property
    def may_act(self) -> bool:
        return self.link.on_call or services.may_act(self.user, self.alert)

    def locale(self) -> str | None:
        """The recipient's language, unless the browser chose one (signed in, or a cookie)."""
        if current_user.is_authenticated or request.cookies.get(LANG_COOKIE):
            return None
        if self.user and self.user.locale in current_app.config["LANGUAGES"]:
            return self.user.locale
        return None

    def render(self, status: int = 200, **extra):
        locale = self.locale()
        with force_locale(locale) if locale else nullcontext():
            page = render_template(
                "alerts/link.html",
                **delivery.facts(self.alert),
                alert=self.alert,
                recipient=self.user,
                may_act=self.may_act,
                large_text=_large_text(),
                **extra,
            )
        return page, status


def _expired(alert_id: int | None):
    target = f"/alerts/{alert_id}" if alert_id else url_for("web.home")
    page = render_template(
        "alerts/link_expired.html",
        hours=current_app.config["ALERT_ACK_LINK_HOURS"],
        login_url=url_for("auth.login", next=target),
        large_text=_large_text(),
    )
    return current_app.response_class(page, status=GONE)


def _large_text() -> bool:
    """Large by default: read on a phone, often by an older caregiver; "Standard text"
    in the header still switches it off."""
    return request.cookies.get(LARGE_TEXT_COOKIE) != "0" or large_text_enabled()


@bp.after_request
def _private(response):
    # The token is a credential: keep it out of caches, other sites' logs and indexes.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.get("/<token>")
def page(token: str):
    return _Link(token).render()


# No CSRF token on this form: the link token in the address is itself unguessable, bound to
# one alert and one recipient, and expiring; a forged cross-site POST would need it, and
# whoever has it may acknowledge anyway. The session cookie plays no part here.
@bp.post("/<token>")
@csrf.exempt
def acknowledge(token: str):
    found = _Link(token)
    if found.alert.status == AlertStatus.RESOLVED:
        return found.render(409)
    if not found.may_act:
        abort(403)
    try:
        who = links.ON_CALL if found.link.on_call else f"user:{found.link.user_id}"
        services.acknowledge(found.user, found.alert, via="link", recipient=who)
    except Conflict:  # resolved in the moment between the page and the button
        return found.render(409)
    return found.render(just_acknowledged=True)
