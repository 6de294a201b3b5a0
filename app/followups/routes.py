"""The follow-up pages: the team's worklist (`/followups`), the week's home visits by
neighbourhood committee (`/followups/routes`, printable), one follow-up with its history and
the result form (`/followups/<id>`), and planning one by hand (`/followups/new`).

Thin: who sees what is services.visible's (404 otherwise), who acts services.may_act's (403
otherwise), the rules are the services'. Administrators give a reason (`?reason=`).
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from app.accounts.models import Role, User
from app.audit.services import history, record_access
from app.errors import N_, DomainError, Forbidden
from app.extensions import db
from app.followups import forms, labels, queries, services
from app.followups.models import FollowUp, FollowUpMode, FollowUpStatus
from app.policy import roles_required
from app.residents.routes import ask_reason, given_reason, visible_resident
from app.templating import localdate
from app.timeutil import local_today

bp = Blueprint("followups", __name__, url_prefix="/followups", template_folder="templates")

any_role = roles_required(*Role)
team_staff = roles_required(Role.DOCTOR, Role.NURSE)
SEE_OTHER = 303
FORM_ERROR = 422
CORRECT_FIELDS = N_("Please correct the fields marked below.")


def page_helpers() -> dict:
    return {
        "mode_label": lambda f: labels.MODE_LABELS[f.mode],
        "status_label": lambda f: labels.STATUS_LABELS[f.status],
        "source_label": lambda f: labels.SOURCE_LABELS[f.source],
        "condition_label": lambda f: labels.value_label("condition", f.condition),
    }


def _teams():
    return [m.team for m in current_user.memberships if m.team.active]


def _team_choices(with_all: bool) -> list:
    first = [SelectChoice("", _("All my teams"))] if with_all else []
    return first + [SelectChoice(t.id, t.name) for t in _teams()]


def _filters() -> forms.FilterForm:
    form = forms.FilterForm(request.args)
    form.team_id.choices = _team_choices(with_all=True)
    if not form.validate() or form.team_id.data not in {None, *current_user.team_ids}:
        form.team_id.data = None  # a filter that is not the user's shows everything they see
    return form


def _mode(form) -> FollowUpMode | None:
    return FollowUpMode(form.mode.data) if form.mode.data else None


@bp.get("/")
@team_staff
def worklist():
    form = _filters()
    work = queries.worklist(current_user, form.team_id.data, _mode(form))
    for follow_up in work.all():
        record_access("list", follow_up.resident_id, "follow_up", follow_up.id)
    return render_template("followups/worklist.html", form=form, work=work, **page_helpers())


@bp.get("/routes")
@team_staff
def routes():
    form = _filters()
    groups = queries.home_routes(current_user, form.team_id.data)
    for _place, stops in groups:
        for stop in stops:
            record_access("list", stop.follow_up.resident_id, "follow_up", stop.follow_up.id)
    return render_template("followups/routes.html", form=form, groups=groups, today=local_today())


# --- one follow-up ---------------------------------------------------------------------------


def _visible(follow_up_id: int, values, action: str = "view"):
    """(the follow-up, the admin's reason); (None, None) while an administrator has not
    said why they open it. 404 when the user may not see it."""
    reason = given_reason(values)
    try:
        return services.get_follow_up(current_user, follow_up_id, reason, action), reason
    except Forbidden as exc:
        if exc.field != "reason":
            raise
        return None, None


def history_rows(follow_up: FollowUp) -> list[dict]:
    events = history("follow_up", follow_up.id)
    ids = {e.actor_id for e in events if e.actor_id}
    names = {u.id: u.display_name for u in db.session.query(User).filter(User.id.in_(ids))}
    return [
        {
            "at": e.at,
            "what": labels.EVENT_LABELS.get(e.name, e.name),
            "who": names.get(e.actor_id) if e.actor_id else _("the platform"),
            "reason": e.reason,
        }
        for e in events
    ]


def _result_form(follow_up: FollowUp) -> forms.ResultForm:
    data = {"mode": follow_up.mode.value, "condition": follow_up.condition or ""}
    return forms.ResultForm(formdata=None, data=data)


def detail_page(follow_up, reason=None, result=None, cancel=None, error=None, status=200):
    following = db.session.get(FollowUp, follow_up.next_id) if follow_up.next_id else None
    acting = services.may_act(current_user, follow_up) and follow_up.status == FollowUpStatus.DUE
    return render_template(
        "followups/detail.html",
        follow_up=follow_up,
        following=following,
        reason=reason,
        history=history_rows(follow_up),
        form_rows=labels.form_rows(follow_up.form),
        acting=acting,
        result=result or _result_form(follow_up),
        cancel=cancel or forms.CancelForm(formdata=None),
        error=error,
        **page_helpers(),
    ), status


@bp.get("/<int:follow_up_id>")
@any_role
def detail(follow_up_id):
    follow_up, reason = _visible(follow_up_id, request.args)
    if follow_up is None:
        return ask_reason()
    return detail_page(follow_up, reason)


def _acting_on(follow_up_id: int) -> FollowUp:
    follow_up, _reason = _visible(follow_up_id, request.form, "act")
    if follow_up is None or not services.may_act(current_user, follow_up):
        raise Forbidden(N_("you may see this follow-up but not act on it"))
    return follow_up


def _refused(follow_up, exc: DomainError, form, name: str):
    db.session.rollback()  # show the follow-up as it is, not half-changed
    db.session.refresh(follow_up)
    message = _(CORRECT_FIELDS) if form.show_error(exc) is None else exc.translated()
    return detail_page(follow_up, error=message, status=exc.status, **{name: form})


@bp.post("/<int:follow_up_id>/result")
@any_role
def record_result(follow_up_id):
    follow_up = _acting_on(follow_up_id)
    form = forms.ResultForm()
    national = form.national_form() if form.validate_on_submit() else False
    if national is False or form.errors:
        return detail_page(follow_up, result=form, error=_(CORRECT_FIELDS), status=FORM_ERROR)
    mode = FollowUpMode(form.mode.data)
    try:
        services.record_result(follow_up, current_user, mode, form.when(), national)
    except DomainError as exc:
        return _refused(follow_up, exc, form, "result")
    flash(_recorded(follow_up), "info")
    return redirect(url_for(".detail", follow_up_id=follow_up.id), SEE_OTHER)


def _recorded(follow_up: FollowUp) -> str:
    if follow_up.next_id is None:
        return _("The follow-up is recorded.")
    following = db.session.get(FollowUp, follow_up.next_id)
    return _(
        "The follow-up is recorded. The next one is planned for %(date)s.",
        date=localdate(following.due_date),
    )


@bp.post("/<int:follow_up_id>/cancel")
@any_role
def cancel(follow_up_id):
    follow_up = _acting_on(follow_up_id)
    form = forms.CancelForm()
    if not form.validate_on_submit():
        return detail_page(follow_up, cancel=form, error=_(CORRECT_FIELDS), status=FORM_ERROR)
    try:
        services.close(follow_up, FollowUpStatus.CANCELLED, form.reason.data, current_user)
    except DomainError as exc:
        return _refused(follow_up, exc, form, "cancel")
    flash(_("The follow-up is cancelled."), "info")
    return redirect(url_for(".detail", follow_up_id=follow_up.id), SEE_OTHER)


# --- planning by hand ------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@team_staff
def new():
    resident_id = request.values.get("resident_id", type=int)
    resident = visible_resident(resident_id, "plan_follow_up") if resident_id else None
    if resident is None:
        return redirect(url_for("residents.index"))  # choose the resident there first
    form = forms.PlanForm(data={"resident_id": resident.id})
    form.team_id.choices = _team_choices(with_all=False)
    if form.team_id.data is None:
        form.team_id.data = next(iter(services.teams_serving(current_user, resident)), None)
    status, error = 200, None
    if form.validate_on_submit():
        try:
            planned = services.plan_by_hand(
                current_user,
                resident,
                form.due_date.data,
                FollowUpMode(form.mode.data),
                form.purpose.data,
                team_id=form.team_id.data,
                condition=form.condition.data or None,
            )
        except DomainError as exc:
            db.session.rollback()
            error = form.show_error(exc) or _(CORRECT_FIELDS)
        else:
            flash(_("The follow-up is planned."), "info")
            return redirect(url_for(".detail", follow_up_id=planned.id), SEE_OTHER)
    if form.is_submitted():
        status, error = FORM_ERROR, error or _(CORRECT_FIELDS)
    return render_template("followups/new.html", form=form, resident=resident, error=error), status
