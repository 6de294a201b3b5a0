"""The notifications page: what the platform has told the signed-in user, newest first.

`register_context` puts the unread count into every page, for the header.
"""

from flask import Blueprint, Flask, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.models import Role
from app.notifications import services
from app.policy import roles_required

bp = Blueprint("notifications", __name__, url_prefix="/notifications", template_folder="templates")

any_role = roles_required(*Role)
SEE_OTHER = 303


def _safe_link(link: str | None) -> str | None:
    """Only local paths: a stored link is never an open redirect or a script."""
    if link and link.startswith("/") and not link.startswith("//"):
        return link
    return None


@bp.get("/")
@any_role
def index():
    items = [
        {"notification": n, "text": services.text_of(n), "link": _safe_link(n.link)}
        for n in services.for_user(current_user)
    ]
    unread = sum(1 for item in items if item["notification"].read_at is None)
    return render_template("notifications/index.html", items=items, unread=unread)


@bp.post("/read")
@any_role
def mark_read():
    count = services.mark_all_read(current_user)
    if count:
        flash(_("All notifications are marked as read."), "info")
    return redirect(url_for(".index"), SEE_OTHER)


def register_context(app: Flask) -> None:
    """Every page gets `unread_notifications` (signed-in users only) for the header."""

    @app.context_processor
    def unread_notifications():
        if not current_user.is_authenticated:
            return {}
        return {"unread_notifications": services.unread_count(current_user)}
