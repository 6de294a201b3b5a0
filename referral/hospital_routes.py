"""The hospital department's referral pages: the inbox, the appointment slots, the
department's actions on a referral and the return form (the down-referral).

Registered on the blueprint of routes.py, whose helpers they share.
"""

from datetime import time, timedelta

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.models import OrganisationKind, Role
from app.errors import DomainError
from app.extensions import db
from app.pagination import audited_page
from app.policy import roles_required
from app.timeutil import local_today, utcnow
from referral import queries, services, slots
from referral.forms import (
    MessageForm,
    ReferralFilterForm,
    RejectForm,
    ReturnForm,
    SlotChoiceForm,
    SlotSeriesForm,
)
from referral.models import AppointmentSlot, Referral, ReferralStatus, SlotStatus, Urgency
from referral.routes import (
    FORM_ERROR,
    SEE_OTHER,
    SLOT_CHOICES,
    act,
    audit_listed,
    bp,
    page_helpers,
    wrong_state,
)

specialists = roles_required(Role.SPECIALIST)
S = ReferralStatus


# --- the inbox -------------------------------------------------------------------------------


def _inbox_order(query: sa.Select) -> sa.Select:
    """Referrals waiting for a decision first; among them the most urgent; then the newest."""
    waiting = sa.case((Referral.status.in_(services.WAITING_FOR_HOSPITAL), 0), else_=1)
    urgency = sa.case(
        (Referral.urgency == Urgency.EMERGENCY, 0),
        (Referral.urgency == Urgency.URGENT, 1),
        else_=2,
    )
    return query.order_by(None).order_by(
        waiting, urgency, Referral.sent_at.desc(), Referral.id.desc()
    )


def _status_counts() -> dict[ReferralStatus, int]:
    mine = queries.search(current_user, {}).order_by(None).subquery()
    rows = db.session.execute(
        sa.select(mine.c.status, sa.func.count()).group_by(mine.c.status)
    ).all()
    counts = {ReferralStatus(status): n for status, n in rows}
    return {status: counts[status] for status in ReferralStatus if status in counts}


@bp.get("/inbox")
@specialists
def inbox():
    form = ReferralFilterForm(request.args).setup(is_admin=False)
    context = {"form": form, "department": current_user.organisation, "results": None}
    context.update(page_helpers())
    if not form.validate():
        return render_template("referral/inbox.html", counts={}, **context), FORM_ERROR
    query = _inbox_order(queries.search(current_user, form.filters()))
    context["results"] = audited_page(query, request.args.get("page", 1, type=int), audit_listed())
    context["args"] = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("referral/inbox.html", counts=_status_counts(), **context)


# --- appointment slots -----------------------------------------------------------------------


def _booked_slots(department_id: int) -> list[AppointmentSlot]:
    query = sa.select(AppointmentSlot).where(
        AppointmentSlot.department_id == department_id,
        AppointmentSlot.status == SlotStatus.BOOKED,
        AppointmentSlot.starts_at > utcnow() - timedelta(days=1),
    )
    return list(db.session.scalars(query.order_by(AppointmentSlot.starts_at).limit(200)))


@bp.route("/slots", methods=["GET", "POST"])
@specialists
def slot_list():
    department = current_user.organisation
    if department is None or department.kind != OrganisationKind.DEPARTMENT:
        return render_template("referral/slots.html", department=None), 200
    form = SlotSeriesForm()
    if not form.is_submitted():
        form.start_date.data = local_today() + timedelta(days=1)
        form.start_time.data = time(9, 0)
    error, status = None, 200
    if form.validate_on_submit():
        try:
            published = slots.publish_series(current_user, form.service_data(department.id))
        except DomainError as exc:
            db.session.rollback()
            error, status = form.show_error(exc), exc.status
        else:
            reserved = sum(1 for s in published if s.reserved_for_referrals)
            flash(
                _(
                    "%(n)s slots are published; %(reserved)s of them are kept for referrals.",
                    n=len(published),
                    reserved=reserved,
                ),
                "info",
            )
            return redirect(url_for(".slot_list"), SEE_OTHER)
    elif form.is_submitted():
        status = FORM_ERROR
    return render_template(
        "referral/slots.html",
        department=department,
        form=form,
        error=error,
        free=slots.open_slots(department.id, limit=200),
        booked=_booked_slots(department.id),
    ), status


# --- the department's actions ----------------------------------------------------------------


@bp.post("/<int:referral_id>/seen")
@specialists
def seen(referral_id):
    return act(
        referral_id,
        "mark_seen",
        lambda r: services.mark_seen(current_user, r),
        _("Marked as seen. The referring doctor can see that you have read it."),
    )


@bp.post("/<int:referral_id>/ask_info")
@specialists
def ask_info(referral_id):
    form = MessageForm()
    return act(
        referral_id,
        "ask_info",
        lambda r: services.ask_info(current_user, r, form.body.data),
        _("Your question is sent to the referring doctor."),
        form,
    )


@bp.post("/<int:referral_id>/accept")
@specialists
def accept(referral_id):
    referral = services.get_referral(current_user, referral_id)
    offered = [] if referral.slot else slots.open_slots(referral.department_id, limit=SLOT_CHOICES)
    form = SlotChoiceForm().setup(offered)
    return act(
        referral,
        "accept",
        lambda r: services.accept(current_user, r, form.slot_id.data or None),
        _("Accepted. The resident and their caregivers are told the appointment."),
        form,
    )


@bp.post("/<int:referral_id>/reject")
@specialists
def reject(referral_id):
    form = RejectForm()
    return act(
        referral_id,
        "reject",
        lambda r: services.reject(current_user, r, form.rejection_reason.data),
        _("The referral is declined. The referring doctor sees your reason."),
        form,
    )


@bp.post("/<int:referral_id>/admit")
@specialists
def admit(referral_id):
    return act(
        referral_id,
        "admit",
        lambda r: services.admit(current_user, r),
        _("Recorded: the resident is admitted to hospital."),
    )


@bp.post("/<int:referral_id>/complete")
@specialists
def complete(referral_id):
    return act(
        referral_id,
        "complete",
        lambda r: services.complete(current_user, r),
        _("Recorded: the hospital treatment is finished."),
    )


# --- the return (down-referral) --------------------------------------------------------------


@bp.route("/<int:referral_id>/return", methods=["GET", "POST"])
@specialists
def return_form(referral_id):
    referral = services.get_referral(current_user, referral_id)
    form = ReturnForm().setup()
    may_return = services.is_hospital_side(current_user, referral) and (
        referral.status in services.TRANSITIONS["return"][0]
    )
    error, status = None, 200
    if not may_return:
        error, status = wrong_state(referral.status.value), 409
    elif form.validate_on_submit():
        try:
            services.return_to_community(current_user, referral, form.service_data())
        except DomainError as exc:
            db.session.rollback()
            error, status = form.show_error(exc), exc.status
        else:
            flash(
                _(
                    "The resident is sent back to the family-doctor team with your discharge "
                    "summary and care plan."
                ),
                "info",
            )
            return redirect(url_for(".detail", referral_id=referral.id), SEE_OTHER)
    elif form.is_submitted():
        status = FORM_ERROR
    return render_template(
        "referral/return.html",
        referral=referral,
        form=form,
        error=error,
        may_return=may_return,
        **page_helpers(),
    ), status
