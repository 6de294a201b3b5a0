"""The family-doctor team's contract pages: the worklist, the list, the draft form, one
contract's page, and the actions on a contract (POST /contracts/<id>/<action>).

An action the services refuse shows the page again with the reason and the service's status
(403, 409 with the current state, 422); one that succeeds says so and redirects (303).
Residents and caregivers act from their own page, and come back to it.
"""

from types import SimpleNamespace

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.models import Role, User
from app.audit.services import record_access
from app.contracts import queries, services
from app.contracts.forms import ContractSearchForm, EndForm, TermsForm, active_teams
from app.contracts.models import IN_FORCE, OPEN, ConsentMethod, ContractStatus
from app.contracts.page_routes import (
    FORM_ERROR,
    SEE_OTHER,
    any_role,
    ask_reason,
    consent_method_of,
    may_consent,
    new_terms_form,
    page_helpers,
    reason_text,
    renewal_window_end,
    resident_page,
    team_options,
    terms_context,
    visible_contract,
)
from app.contracts.routes import bp
from app.errors import DomainError
from app.extensions import db
from app.labels import label
from app.pagination import audited_page
from app.policy import roles_required
from app.residents.forms import REASON_MAX
from app.residents.routes import given_reason, visible_resident
from app.timeutil import local_today

team_staff = roles_required(Role.DOCTOR, Role.NURSE)
team_or_admin = roles_required(Role.DOCTOR, Role.NURSE, Role.ADMIN)
S = ContractStatus


# --- worklist and list -----------------------------------------------------------------------


@bp.get("/worklist")
@team_staff
def worklist():
    work = queries.worklist(current_user, current_app.config["CONTRACT_EXPIRING_DAYS"])
    for contract in (*work["open"], *work["ending"]):
        record_access("list", contract.resident_id, "contract", contract.id)
    for resident in work["unsigned_elderly"]:
        record_access("list", resident.id)
    renewing = {c.resident_id for c in work["open"]}
    return render_template("contracts/worklist.html", work=work, renewing=renewing)


@bp.get("/")
@team_or_admin
def index():
    form = ContractSearchForm(request.args).setup(current_user.role == Role.ADMIN)
    reason = given_reason(request.args)
    context = {"form": form, "results": None, "reason": reason}
    if current_user.role == Role.ADMIN and not reason:
        return render_template("contracts/index.html", needs_reason=True, **context)
    if not form.validate():
        return render_template("contracts/index.html", **context), FORM_ERROR
    query = queries.search(current_user, form.filters(), reason)
    context["results"] = audited_page(
        query,
        request.args.get("page", 1, type=int),
        lambda c: record_access("list", c.resident_id, "contract", c.id, reason=reason),
    )
    context["args"] = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("contracts/index.html", **context)


# --- the team's draft ------------------------------------------------------------------------


def _teams_of(user: User) -> list:
    """The teams a user may draft for: their own active teams; every team for an admin."""
    teams = active_teams()
    if user.role == Role.ADMIN:
        return teams
    return [t for t in teams if t.id in user.team_ids]


@bp.route("/new", methods=["GET", "POST"])
@team_or_admin
def new():
    resident_id = request.args.get("resident_id", type=int)
    if resident_id is None:
        abort(404)
    reason = given_reason(request.values)
    resident = visible_resident(resident_id, "view", reason)
    if resident is None:
        return ask_reason()
    teams = _teams_of(current_user)
    current = services.current_contract(resident.id)
    if request.method == "POST":
        form = TermsForm().setup(team_options(teams, resident)[0])
    else:
        form = new_terms_form(resident, teams, current)
    error, status = None, 200
    if form.validate_on_submit():
        try:
            contract = services.draft_contract(current_user, resident, form.service_data())
        except DomainError as exc:
            db.session.rollback()
            error, status = form.show_error(exc), exc.status
        else:
            flash(
                _("The draft is saved. When it is ready, send it for the resident's agreement."),
                "info",
            )
            return redirect(url_for(".detail", contract_id=contract.id, reason=reason), SEE_OTHER)
    elif form.is_submitted():
        status = FORM_ERROR
    return render_template(
        "contracts/new.html",
        resident=resident,
        current=current,
        error=error,
        reason=reason,
        **terms_context(form, teams, resident),
    ), status


# --- one contract ----------------------------------------------------------------------------


def _history(contract) -> list[SimpleNamespace]:
    events = queries.history(contract)
    ids = {e.actor_id for e in events if e.actor_id}
    actors = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}
    return [
        SimpleNamespace(event=e, actor=actors.get(e.actor_id), why=reason_text(e.reason))
        for e in events
    ]


def _actions(contract) -> dict:
    """What the current user may do to the contract in its state (the services decide)."""
    team = services.may_act_for_team(current_user, contract)
    requester = services.may_request_for(current_user, contract.resident)
    return {
        "accept": team and contract.status in (S.REQUESTED, S.DRAFTED),
        "reject": team and contract.status == S.REQUESTED,
        "consent": contract.status == S.PENDING_CONSENT and may_consent(current_user, contract),
        "cancel": contract.status in OPEN and (team or requester),
        "terminate": team and contract.status in IN_FORCE,
        "renew": team
        and contract.status in IN_FORCE
        and contract.end_date <= renewal_window_end()
        and services.open_contract(contract.resident_id) is None,
    }


def detail_page(contract, reason, error=None, failed=None, end_form=None, status=200):
    end_forms = {
        action: end_form if failed == action and end_form else EndForm(formdata=None, prefix=action)
        for action in ("reject", "terminate")
    }
    return render_template(
        "contracts/detail.html",
        contract=contract,
        history=_history(contract),
        actions=_actions(contract),
        end_forms=end_forms,
        error=error,
        failed=failed,
        reason=reason,
        version=current_app.config["CONSENT_TEXT_VERSION"],
        **page_helpers(),
    ), status


@bp.get("/<int:contract_id>")
@any_role
def detail(contract_id):
    reason = given_reason(request.args)
    contract = visible_contract(contract_id, reason)
    if contract is None:
        return ask_reason()
    return detail_page(contract, reason)


def _act(contract_id: int, action: str, do, done, end_form: EndForm | None = None):
    """Run one action; on refusal show the page again with why, on success go back (303).

    `done` is the message to flash, or a function of the contract that makes it.
    """
    reason = given_reason(request.form)
    contract = services.get_contract(current_user, contract_id, reason)
    resident_side = current_user.role in (Role.RESIDENT, Role.CAREGIVER)
    try:
        do(contract)
    except DomainError as exc:
        db.session.rollback()  # show the contract as it is, not half-changed
        field_error = end_form is not None and end_form.show_error(exc) is None
        message = _("Please correct the fields marked below.") if field_error else exc.translated()
        if exc.extra.get("current"):  # a wrong transition: say what state it is in now
            message = _(
                "This cannot be done in the contract's present state. It is now: %(status)s.",
                status=_status_label(exc.extra["current"]),
            )
        if resident_side:
            return resident_page(contract.resident, error=message, status=exc.status)
        return detail_page(contract, reason, message, action, end_form, exc.status)
    flash(done(contract) if callable(done) else done, "info")
    if resident_side:
        return redirect(url_for(".resident", resident_id=contract.resident_id), SEE_OTHER)
    return redirect(url_for(".detail", contract_id=contract.id, reason=reason), SEE_OTHER)


def _status_label(value: str) -> str:
    return label(value, "ContractStatus")


@bp.post("/<int:contract_id>/accept")
@team_or_admin
def accept(contract_id):
    done = _("Accepted. The contract now waits for the resident's agreement.")
    return _act(contract_id, "accept", lambda c: services.accept(current_user, c), done)


@bp.post("/<int:contract_id>/reject")
@team_or_admin
def reject(contract_id):
    form = EndForm(prefix="reject")
    done = _("The request is declined.")

    def do(contract):
        services.reject(current_user, contract, (form.end_reason.data or "")[:REASON_MAX])

    return _act(contract_id, "reject", do, done, form)


def _agreed(method: ConsentMethod, contract) -> str:
    if method == ConsentMethod.ONLINE:
        text = _("Thank you. Your family-doctor contract is in force.")
    elif method == ConsentMethod.PROXY:
        text = _(
            "Thank you. The family-doctor contract of %(name)s is in force.",
            name=contract.resident.name,
        )
    else:
        text = _("The resident's agreement is recorded. The contract is in force.")
    if contract.active_from and contract.active_from > local_today():
        text += " " + _("It starts on %(date)s.", date=contract.active_from.isoformat())
    return text


@bp.post("/<int:contract_id>/consent")
@any_role
def consent(contract_id):
    """I agree (the resident online, a proxy caregiver), or the team records it in person."""
    method = consent_method_of(current_user)
    version = request.form.get("text_version", "")

    def do(contract):
        services.record_consent(current_user, contract, method, version)

    return _act(contract_id, "consent", do, lambda c: _agreed(method, c))


@bp.post("/<int:contract_id>/cancel")
@any_role
def cancel(contract_id):
    done = _("The request is cancelled.")
    return _act(contract_id, "cancel", lambda c: services.cancel(current_user, c), done)


@bp.post("/<int:contract_id>/terminate")
@team_or_admin
def terminate(contract_id):
    form = EndForm(prefix="terminate")
    done = _("The contract is terminated.")

    def do(contract):
        services.terminate(current_user, contract, (form.end_reason.data or "")[:REASON_MAX])

    return _act(contract_id, "terminate", do, done, form)
