"""The alert pages: the team's queue (`/alerts`), a caregiver's or resident's phone-sized
page (`/alerts/mine`), one alert with its evidence, chart and history (`/alerts/<id>`), the
card the live pages fetch when the stream says an alert changed, and the three actions.

Thin: who sees what is app.policy's (404 otherwise), who may act services.may_act (403
otherwise), the rules are services'. Administrators give a reason (`?reason=`), kept in
the audit log with every read. The event stream is in stream.py, on this blueprint.
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.accounts.models import Role
from app.alerts import forms, page_data, queries, services
from app.alerts.models import SEVERITY_RANK, Alert, AlertStatus, Severity
from app.audit.services import record_access
from app.errors import N_, DomainError, Forbidden
from app.extensions import db
from app.policy import require_admin_reason, roles_required
from app.residents.routes import ask_reason, given_reason
from app.templating import localtime
from app.timeutil import utcnow

bp = Blueprint(
    "alerts",
    __name__,
    url_prefix="/alerts",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

any_role = roles_required(*Role)
SEE_OTHER = 303
FORM_ERROR = 422
PERSONAL = (Role.CAREGIVER, Role.RESIDENT)  # their page is /alerts/mine

SEVERITY_LABELS = {
    Severity.CRITICAL: _l("Critical"),
    Severity.HIGH: _l("High"),
    Severity.MEDIUM: _l("Medium"),
    Severity.LOW: _l("Low"),
}
STATUS_LABELS = {
    AlertStatus.OPEN: _l("New: nobody has answered yet"),
    AlertStatus.ESCALATED: _l("Passed on: nobody answered in time"),
    AlertStatus.ACKNOWLEDGED: _l("Someone is taking care of it"),
    AlertStatus.RESOLVED: _l("Resolved"),
}


def what(alert: Alert) -> str:
    """The alert's message in the reader's language."""
    try:
        return _(alert.message, **(alert.params or {}))
    except (KeyError, TypeError, ValueError):
        return alert.message


def section_of(alert: Alert) -> str:
    if alert.status == AlertStatus.RESOLVED:
        return "resolved"
    return "in_hand" if alert.status == AlertStatus.ACKNOWLEDGED else "waiting"


def card_data(user, alert: Alert) -> dict:
    """What the live pages need to know of an alert, in the reader's language."""
    return {
        "id": alert.id,
        "resident": alert.resident.name,
        "what": what(alert),
        "severity": alert.severity.value,
        "severity_label": str(SEVERITY_LABELS[alert.severity]),
        "status": alert.status.value,
        "status_label": str(STATUS_LABELS[alert.status]),
        "section": section_of(alert),
        "may_act": services.may_act(user, alert),
    }


def page_helpers() -> dict:
    return {
        "what": what,
        "severity_label": lambda a: SEVERITY_LABELS[a.severity],
        "status_label": lambda a: STATUS_LABELS[a.status],
        "section_of": section_of,
        "may_act": lambda a: services.may_act(current_user, a),
        "severity_rank": lambda a: SEVERITY_RANK[a.severity],
        "evidence_rows": page_data.evidence_rows,
        "snoozed": lambda a: a.snoozed_until is not None and a.snoozed_until > utcnow(),
    }


def _reason_or_none(values):
    """The administrator's reason; Forbidden(field="reason") when they have given none."""
    reason = given_reason(values)
    require_admin_reason(current_user, reason)
    return reason


def visible_alert(alert_id: int, values, action: str = "view"):
    """The alert (404 if not for this user), audited; None while an administrator has not
    said why they open it."""
    try:
        reason = _reason_or_none(values)
    except Forbidden:
        return None, None
    alert = services.get_alert(current_user, alert_id)
    record_access(action, alert.resident_id, "alert", alert.id, reason=reason)
    return alert, reason


def _cursor() -> str:
    from app.alerts.stream import now_cursor

    return str(now_cursor())


def live_context(view: str, reason: str | None) -> dict:
    return {"cursor": _cursor(), "view": view, "reason": reason, **page_helpers()}


# --- the pages ------------------------------------------------------------------------------


@bp.get("/")
@any_role
def queue():
    if current_user.role in PERSONAL:
        return redirect(url_for(".mine"))
    try:
        reason = _reason_or_none(request.args)
    except Forbidden:
        return ask_reason()
    context = live_context("queue", reason)  # before the lists: nothing falls between
    waiting, in_hand = queries.queue(current_user)
    for alert in (*waiting, *in_hand):
        record_access("list", alert.resident_id, "alert", alert.id, reason=reason)
    back = request.full_path.rstrip("?")
    return render_template(
        "alerts/queue.html",
        waiting=waiting,
        in_hand=in_hand,
        forms={a.id: forms.forms_for(a.id, back, reason) for a in (*waiting, *in_hand)},
        **context,
    )


@bp.get("/mine")
@any_role
def mine():
    if current_user.role not in PERSONAL:
        return redirect(url_for(".queue"))
    context = live_context("mine", None)
    active = [a for pair in queries.queue(current_user) for a in pair]
    resolved = queries.recently_resolved(current_user)
    for alert in (*active, *resolved):
        record_access("list", alert.resident_id, "alert", alert.id)
    return render_template(
        "alerts/mine.html",
        active=sorted(active, key=lambda a: (SEVERITY_RANK[a.severity], a.opened_at)),
        resolved=resolved,
        phones=page_data.phones_for(current_user, [*active, *resolved]),
        forms={a.id: forms.forms_for(a.id, url_for(".mine")) for a in active},
        **context,
    )


def detail_page(alert: Alert, reason, error=None, failed=None, form=None, status=200):
    back = url_for(".detail", alert_id=alert.id, reason=reason)
    made = forms.forms_for(alert.id, back, reason)
    if failed and form is not None:
        made[failed] = form
    return render_template(
        "alerts/detail.html",
        alert=alert,
        reason=reason,
        forms={alert.id: made},
        error=error,
        chart=page_data.chart(alert),
        evidence=page_data.evidence_rows(alert),
        history=page_data.history_rows(alert),
        told=page_data.told(alert),
        phones=page_data.phones_for(current_user, [alert]),
        **page_helpers(),
    ), status


@bp.get("/<int:alert_id>")
@any_role
def detail(alert_id):
    alert, reason = visible_alert(alert_id, request.args)
    if alert is None:
        return ask_reason()
    return detail_page(alert, reason)


@bp.get("/<int:alert_id>/card")
@any_role
def card(alert_id):
    """One alert's card, as the live pages put it in place of the old one."""
    alert, reason = visible_alert(alert_id, request.args)
    if alert is None:
        return ask_reason()
    view = "mine" if request.args.get("view") == "mine" else "queue"
    back = url_for(".mine") if view == "mine" else url_for(".queue", reason=reason)
    template = "alerts/_mine_card.html" if view == "mine" else "alerts/_queue_card.html"
    return render_template(
        template,
        alert=alert,
        forms={alert.id: forms.forms_for(alert.id, back, reason)},
        phones=page_data.phones_for(current_user, [alert]),
        reason=reason,
        fresh=True,
        **page_helpers(),
    )


# --- acting on an alert ----------------------------------------------------------------------


def _back(form) -> str | None:
    target = form.next.data or ""
    return target if target.startswith("/") and not target.startswith("//") else None


def act(alert_id: int, name: str, do, done: str):
    """Run one action; on refusal show the alert again with why, else go back (303)."""
    form = forms.FORMS[name](prefix=forms.prefix(alert_id, name))
    reason = given_reason(request.form) or given_reason({"reason": form.reason.data})
    require_admin_reason(current_user, reason)
    alert = services.get_alert(current_user, alert_id)
    if not services.may_act(current_user, alert):
        raise Forbidden(N_("you may see this alert but not act on it"))
    record_access("act", alert.resident_id, "alert", alert.id, reason=reason)
    if not form.validate_on_submit():
        message = _("Please correct the fields marked below.")
        return detail_page(alert, reason, message, name, form, FORM_ERROR)
    try:
        said = do(alert, form)
    except DomainError as exc:
        db.session.rollback()  # show the alert as it is, not half-changed
        field_error = form.show_error(exc) is None
        message = _("Please correct the fields marked below.") if field_error else exc.translated()
        return detail_page(alert, reason, message, name, form, exc.status)
    flash(said if isinstance(said, str) else done, "info")
    return redirect(_back(form) or url_for(".detail", alert_id=alert.id, reason=reason), SEE_OTHER)


@bp.post("/<int:alert_id>/acknowledge")
@any_role
def acknowledge(alert_id):
    return act(
        alert_id,
        "acknowledge",
        lambda alert, form: services.acknowledge(current_user, alert),
        _("Thank you: everyone sees that you are taking care of it."),
    )


@bp.post("/<int:alert_id>/resolve")
@any_role
def resolve(alert_id):
    return act(
        alert_id,
        "resolve",
        lambda alert, form: services.resolve(current_user, alert, form.note.data),
        _("The alert is resolved."),
    )


def _snooze(alert, form):
    until = page_data.minutes_from_now(form.minutes.data)
    services.snooze(current_user, alert, until)
    return _("Put off until %(time)s.", time=localtime(until, "HH:mm"))


@bp.post("/<int:alert_id>/snooze")
@any_role
def snooze(alert_id):
    return act(alert_id, "snooze", _snooze, _("The alert is put off."))


# --- the header's number ---------------------------------------------------------------------


@bp.app_context_processor
def alerts_in_header():
    """`alerts_waiting` for signed-in users other than administrators (one count query)."""
    if not current_user.is_authenticated or current_user.role == Role.ADMIN:
        return {}
    return {"alerts_waiting": queries.waiting_count(current_user)}


# The event stream registers itself on `bp`.
from app.alerts import stream  # noqa: E402, F401
