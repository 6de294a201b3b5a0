"""The referring team's referral pages: the list (the team's open loops), the referral form
and the referring side's actions (send, answer, withdraw, take back, close the loop); and the
list residents and caregivers see of their own referrals.

Registered on the blueprint of routes.py, whose helpers they share.
"""

from types import SimpleNamespace

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.models import HOSPITAL_KINDS, Organisation, OrganisationKind, Role
from app.audit.services import record_access
from app.contracts.services import current_contract
from app.errors import DomainError
from app.extensions import db
from app.pagination import audited_page
from app.policy import roles_required
from app.residents.routes import given_reason, visible_resident
from referral import queries, services, slots
from referral.forms import CancelForm, MessageForm, ReferralFilterForm, ReferralForm, SlotChoiceForm
from referral.models import Referral, ReferralStatus
from referral.routes import (
    FORM_ERROR,
    NO_SLOT,
    SEE_OTHER,
    SLOT_CHOICES,
    act,
    any_role,
    audit_listed,
    bp,
    page_helpers,
    sentences,
)

doctors = roles_required(Role.DOCTOR)
team_staff = roles_required(Role.DOCTOR, Role.NURSE)
S = ReferralStatus


# --- lists -----------------------------------------------------------------------------------


def _count(query: sa.Select) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))


def _team_summary() -> dict:
    """What waits for the team: drafts, questions, returns, overdue returns, escalations."""
    mine = queries.search(current_user, {})
    return {
        "drafts": _count(mine.where(Referral.status == S.DRAFT)),
        "questions": _count(mine.where(Referral.status == S.INFO_REQUESTED)),
        "returned": _count(mine.where(Referral.status == S.RETURNED)),
        "return_accepted": _count(mine.where(Referral.status == S.RETURN_ACCEPTED)),
        "flagged": _count(queries.search(current_user, {"flagged": True})),
        "open_loop": _count(queries.search(current_user, {"open_loop": True})),
        "escalated": _count(
            mine.where(
                Referral.escalated_at.is_not(None),
                Referral.status.in_(services.WAITING_FOR_HOSPITAL),
            )
        ),
    }


def _resident_side_list():
    """A resident's or caregiver's referrals (never drafts) with their appointments."""
    args = {"resident_id": request.args.get("resident_id", type=int)}
    found = db.session.scalars(queries.search(current_user, args)).all()
    for referral in found:
        record_access("list", referral.resident_id, "referral", referral.id)
    return render_template("referral/mine.html", referrals=found, **page_helpers())


@bp.get("/")
@any_role
def index():
    if current_user.role == Role.SPECIALIST:
        return redirect(url_for(".inbox"))
    if current_user.role in (Role.RESIDENT, Role.CAREGIVER):
        return _resident_side_list()
    is_admin = current_user.role == Role.ADMIN
    form = ReferralFilterForm(request.args).setup(is_admin)
    reason = given_reason(request.args)
    context = {"form": form, "results": None, "reason": reason, "summary": None}
    context.update(page_helpers())
    if is_admin and not reason:
        return render_template("referral/index.html", needs_reason=True, **context)
    if not form.validate():
        return render_template("referral/index.html", **context), FORM_ERROR
    query = queries.search(current_user, form.filters(), reason)
    context["results"] = audited_page(
        query, request.args.get("page", 1, type=int), audit_listed(reason)
    )
    context["args"] = {k: v for k, v in request.args.items() if k != "page"}
    if not is_admin:
        context["summary"] = _team_summary()
    return render_template("referral/index.html", **context)


# --- the referral form -----------------------------------------------------------------------


def department_groups(resident_id: int) -> list[SimpleNamespace]:
    """Active departments by hospital: the resident's signed hospitals first, and marked."""
    contract = current_contract(resident_id)
    order = {}
    if contract is not None:
        order = {contract.district_hospital_id: 0, contract.municipal_hospital_id: 1}
    order.pop(None, None)
    query = sa.select(Organisation).where(
        Organisation.kind.in_(HOSPITAL_KINDS), Organisation.active.is_(True)
    )
    hospitals = db.session.scalars(query).all()
    groups = []
    for hospital in sorted(hospitals, key=lambda h: (order.get(h.id, 2), h.name)):
        departments = sorted(
            (c for c in hospital.children if c.kind == OrganisationKind.DEPARTMENT and c.active),
            key=lambda d: d.name,
        )
        if departments:
            groups.append(
                SimpleNamespace(
                    hospital=hospital, signed=hospital.id in order, departments=departments
                )
            )
    return groups


@bp.route("/new", methods=["GET", "POST"])
@doctors
def new():
    resident_id = request.args.get("resident_id", type=int)
    if resident_id is None:
        abort(404)
    resident = visible_resident(resident_id, "view")
    groups = department_groups(resident.id)
    form = ReferralForm().setup([d.id for g in groups for d in g.departments])
    error, status = None, 200
    if form.validate_on_submit():
        try:
            referral = services.draft_referral(current_user, resident, form.service_data())
        except DomainError as exc:
            db.session.rollback()
            error, status = form.show_error(exc), exc.status
        else:
            flash(
                _("The draft is saved. Check it, then send it to the department."),
                "info",
            )
            return redirect(url_for(".detail", referral_id=referral.id), SEE_OTHER)
    elif form.is_submitted():
        status = FORM_ERROR
    return render_template(
        "referral/new.html",
        resident=resident,
        form=form,
        groups=groups,
        contract=current_contract(resident.id),
        error=error,
    ), status


# --- the referring side's actions ------------------------------------------------------------


def _sent(referral: Referral) -> str:
    text = _("The referral is sent to %(department)s.", department=referral.department.name)
    if referral.slot is not None:
        return sentences(text, _("The appointment is booked."))
    return text


@bp.post("/<int:referral_id>/send")
@doctors
def send(referral_id):
    form = SlotChoiceForm()
    referral = services.get_referral(current_user, referral_id)
    offered = slots.open_slots(referral.department_id, reserved_only=True, limit=SLOT_CHOICES)
    form.setup(offered, NO_SLOT)

    def do(r):
        services.send(current_user, r, form.slot_id.data or None)

    return act(referral, "send", do, _sent, form)


@bp.post("/<int:referral_id>/answer")
@doctors
def answer(referral_id):
    form = MessageForm()
    return act(
        referral_id,
        "answer",
        lambda r: services.answer(current_user, r, form.body.data),
        _("Your answer is sent to the department."),
        form,
    )


@bp.post("/<int:referral_id>/cancel")
@doctors
def cancel(referral_id):
    form = CancelForm()
    return act(
        referral_id,
        "cancel",
        lambda r: services.cancel(current_user, r, form.cancel_reason.data),
        _("The referral is withdrawn."),
        form,
    )


@bp.post("/<int:referral_id>/accept_return")
@team_staff
def accept_return(referral_id):
    return act(
        referral_id,
        "accept_return",
        lambda r: services.accept_return(current_user, r),
        _("The resident is taken back. The follow-ups of the care plan are planned."),
    )


@bp.post("/<int:referral_id>/acknowledge")
@doctors
def acknowledge(referral_id):
    return act(
        referral_id,
        "acknowledge",
        lambda r: services.acknowledge(current_user, r),
        _("You have read the return. The loop is closed."),
    )
