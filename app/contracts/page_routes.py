"""The contract pages of residents and caregivers, and the helpers the team's pages share.

A resident, a linked caregiver, the team and an administrator (with a reason) see a
resident's contracts: the one in force, one in the making and the past ones. Only the
resident themself or a proxy caregiver requests signing and agrees online
(services.may_request_for); the services decide, the pages only hide buttons that would be
refused. The team's pages (worklist, list, draft, contract page, actions) are in
team_routes.py, on the same blueprint.
"""

from datetime import timedelta

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.models import Role, Team
from app.contracts import packages, queries, services
from app.contracts.forms import TermsForm, active_teams
from app.contracts.models import IN_FORCE, ConsentMethod, Contract, ServicePackage
from app.contracts.routes import bp
from app.errors import N_, DomainError, Forbidden
from app.extensions import db
from app.policy import roles_required
from app.residents.forms import ReasonForm
from app.residents.models import Resident
from app.residents.routes import given_reason, visible_resident
from app.timeutil import local_today

any_role = roles_required(*Role)
# A refused form is shown again, with the reason next to the field, as 422.
FORM_ERROR = 422
SEE_OTHER = 303


# --- helpers shared with team_routes ---------------------------------------------------------


def ask_reason():
    """Ask an administrator why they open the record; the other arguments are kept."""
    form = ReasonForm(request.args)
    if "reason" in request.args:
        form.validate()
    keep = {key: value for key, value in request.args.items() if key != "reason"}
    return render_template("contracts/reason.html", form=form, action=request.path, keep=keep)


def visible_contract(contract_id: int, reason: str | None) -> Contract | None:
    """The contract if the user may see it (else 404), audited; None while an
    administrator has not given a reason."""
    try:
        return services.get_contract(current_user, contract_id, reason)
    except Forbidden as exc:
        if exc.field != "reason":
            raise
        return None


# Reasons the services and jobs record in English, shown in the reader's language.
def reason_text(reason: str | None) -> str | None:
    """A reason the platform gave is a message id and is translated; a person's is kept."""
    return _(reason) if reason else None


def page_helpers() -> dict:
    """Functions the contract templates call."""
    return {"includes": packages.includes, "reason_text": reason_text}


def renewal_window_end():
    return local_today() + timedelta(days=current_app.config["CONTRACT_EXPIRING_DAYS"])


def default_package(resident: Resident, current: Contract | None = None) -> ServicePackage:
    if current is not None:
        return current.package
    return ServicePackage.ELDERLY if resident.age >= 65 else ServicePackage.BASIC


def team_options(teams: list[Team], resident: Resident) -> tuple[list[Team], dict]:
    """The teams, those serving the resident's neighbourhood first, and whether each does."""
    serves = {t.id: resident.neighbourhood_id in {n.id for n in t.neighbourhoods} for t in teams}
    ordered = sorted(teams, key=lambda t: (not serves[t.id], t.name))
    return ordered, serves


def terms_context(form: TermsForm, teams: list[Team], resident: Resident) -> dict:
    """What the terms fields show next to the choices: neighbourhoods and package contents."""
    ordered, serves = team_options(teams, resident)
    basic = [str(item) for item in packages.BASIC]
    extras = {p.value: [i for i in packages.includes(p) if i not in basic] for p in ServicePackage}
    return {
        "form": form,
        "teams": {t.id: t for t in ordered},
        "serves": serves,
        "basic_includes": basic,
        "package_extras": extras,
    }


def new_terms_form(resident: Resident, teams: list[Team], current: Contract | None) -> TermsForm:
    """The request or draft form: the current team for a renewal, else one serving the
    resident's neighbourhood; the current package, else the elderly one for 65+."""
    ordered, serves = team_options(teams, resident)
    team_ids = [t.id for t in ordered]
    if current is not None and current.team_id in team_ids:
        team_id = current.team_id
    else:
        team_id = team_ids[0] if team_ids and serves[team_ids[0]] else None
    return TermsForm().setup(ordered, default_package(resident, current), team_id, current)


def consent_method_of(user) -> ConsentMethod:
    """How this user's "I agree" is recorded; the services say whether they may."""
    if user.role == Role.RESIDENT:
        return ConsentMethod.ONLINE
    if user.role == Role.CAREGIVER:
        return ConsentMethod.PROXY
    return ConsentMethod.IN_PERSON


def may_consent(user, contract: Contract) -> bool:
    if user.role in (Role.RESIDENT, Role.CAREGIVER):
        return services.may_request_for(user, contract.resident)
    return services.may_act_for_team(user, contract)


# --- the resident's contract page ------------------------------------------------------------


def resident_overview(resident: Resident, reason: str | None) -> dict:
    contracts = list(
        db.session.scalars(queries.search(current_user, {"resident_id": resident.id}, reason))
    )
    today = local_today()
    current = services.current_contract(resident.id)
    in_making = services.open_contract(resident.id)
    upcoming = next(
        (
            c
            for c in contracts
            if c.status in IN_FORCE and c is not current and c.active_from and c.active_from > today
        ),
        None,
    )
    shown = {c.id for c in (current, in_making, upcoming) if c is not None}
    past = sorted(
        (c for c in contracts if c.id not in shown), key=lambda c: c.created_at, reverse=True
    )
    may_request = services.may_request_for(current_user, resident)
    renewal = current is not None and current.end_date <= renewal_window_end()
    room = in_making is None and upcoming is None and (current is None or renewal)
    is_staff = current_user.role in (Role.DOCTOR, Role.NURSE, Role.ADMIN)
    return {
        "resident": resident,
        "current": current,
        "in_making": in_making,
        "upcoming": upcoming,
        "past": past,
        "may_request": may_request,
        "can_request": may_request and room,
        "may_draft": is_staff and room,
        "renewal": renewal,
        "is_staff": is_staff,
        "reason": reason,
        "version": current_app.config["CONSENT_TEXT_VERSION"],
        "expiring_days": current_app.config["CONTRACT_EXPIRING_DAYS"],
    }


def resident_page(resident: Resident, reason=None, form=None, error=None, status=200):
    context = resident_overview(resident, reason)
    if context["can_request"]:
        teams = active_teams()
        form = form or new_terms_form(
            resident, teams, context["current"] if context["renewal"] else None
        )
        context.update(terms_context(form, teams, resident))
    context["error"] = error
    context["may_consent"] = context["in_making"] is not None and may_consent(
        current_user, context["in_making"]
    )
    context.update(page_helpers())
    return render_template("contracts/resident.html", **context), status


@bp.get("/resident/<int:resident_id>")
@any_role
def resident(resident_id):
    reason = given_reason(request.args)
    found = visible_resident(resident_id, "view", reason)
    if found is None:
        return ask_reason()
    return resident_page(found, reason)


@bp.post("/resident/<int:resident_id>/request")
@any_role
def request_signing(resident_id):
    """Request signing, or renewal, for the resident (the resident or a proxy caregiver)."""
    found = visible_resident(resident_id, "view", given_reason(request.form))
    if found is None or not services.may_request_for(current_user, found):
        raise Forbidden(N_("only the resident or a proxy caregiver can request signing"))
    form = TermsForm().setup(team_options(active_teams(), found)[0])
    if not form.validate_on_submit():
        return resident_page(found, form=form, status=FORM_ERROR)
    try:
        services.request_contract(current_user, found, form.service_data())
    except DomainError as exc:
        db.session.rollback()
        error = form.show_error(exc)
        return resident_page(found, form=form, error=error, status=exc.status)
    flash(
        _("Your request is sent. The family-doctor team will look at it and may phone you."), "info"
    )
    return redirect(url_for(".resident", resident_id=found.id), SEE_OTHER)


# The team's pages and the contract actions register themselves on `bp` (routes.py imports
# team_routes after this module).
