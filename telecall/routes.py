"""Video-visit pages: the blueprint, the helpers its pages share, and the resident's side:
their visits (`/visits/mine`), booking a visit (type, then a free time, then confirm),
rescheduling and cancelling. The team's workbench and availability pages are in
workbench_routes.py, the visit record and what the team does in it in record_routes.py; the
call page and the device check are the call blueprint's (call_routes.py).

Thin: who may see a visit is records.may_see (404 otherwise), who may change it
booking.may_change (403 otherwise), the rules are the services'. A refused form is shown
again with the reason next to its field (422), a taken time with the list of free times
again (409).
"""

from datetime import date, datetime, timedelta
from types import SimpleNamespace

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.models import Role
from app.audit.services import record_access
from app.errors import N_, Conflict, DomainError, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.policy import get_resident, roles_required, visible_resident_ids
from app.residents.models import CaregiverScope, Resident
from app.residents.routes import ask_reason, given_reason
from app.timeutil import local_today, to_local, utcnow
from telecall import booking, notices, records
from telecall.availability import length_of
from telecall.forms import (
    ROLE_LABELS,
    STATUS_LABELS,
    TYPE_HINTS,
    TYPE_LABELS,
    BookForm,
    CancelForm,
)
from telecall.models import ParticipantRole, Visit, VisitStatus, VisitType
from telecall.tokens import call_opens_at, join_path, link_closes_at

bp = Blueprint(
    "visits",
    __name__,
    url_prefix="/visits",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

RESIDENT_SIDE = (Role.RESIDENT, Role.CAREGIVER)
TEAM = (Role.DOCTOR, Role.NURSE)
any_role = roles_required(*Role)
resident_side = roles_required(*RESIDENT_SIDE)
bookers = roles_required(*RESIDENT_SIDE, *TEAM)
SEE_OTHER = 303
FORM_ERROR = 422
SLOT_DAYS = 7  # one week of free times on a page
CORRECT_FIELDS = N_("Please correct the fields marked below.")


# --- helpers the visit pages share ---------------------------------------------------------


def type_label(visit_type) -> str:
    return str(TYPE_LABELS[VisitType(visit_type)])


def status_label(status) -> str:
    return str(STATUS_LABELS[VisitStatus(status)])


def role_label(role) -> str:
    return str(ROLE_LABELS[ParticipantRole(role)])


def minutes_of(visit_type) -> int:
    return int(length_of(VisitType(visit_type)).total_seconds() // 60)


def day_label(day) -> str:
    """A date as a person says it: today, tomorrow, or the weekday and date."""
    today = local_today()
    full = format_date(day, "full")
    if day == today:
        return _("Today, %(date)s", date=full)
    if day == today + timedelta(days=1):
        return _("Tomorrow, %(date)s", date=full)
    return full


def join_info(visit: Visit) -> SimpleNamespace | None:
    """For the resident and their caregivers (care scope): the resident's join link while the
    room is open, else the device check and when the room opens. None for anyone else."""
    if current_user.role not in RESIDENT_SIDE or not visit.is_open:
        return None
    if not booking.may_change(current_user, visit):
        return None
    seat = notices.participant(visit, ParticipantRole.RESIDENT)
    now = utcnow()
    if seat is None or now > link_closes_at(seat):
        return None
    opens = call_opens_at(seat)
    running = visit.status == VisitStatus.IN_PROGRESS
    open_now = opens <= now and (now <= visit.ends_at or running)
    path = join_path(seat)
    return SimpleNamespace(join=path if open_now else None, check=path + "/check", opens_at=opens)


def changeable(visit: Visit) -> bool:
    """Whether the current user may move or cancel the visit now (the service decides too)."""
    return (
        visit.status == VisitStatus.BOOKED
        and visit.starts_at > utcnow()
        and booking.may_change(current_user, visit)
    )


@bp.context_processor
def page_helpers() -> dict:
    return {
        "type_label": type_label,
        "status_label": status_label,
        "role_label": role_label,
        "join_info": join_info,
        "changeable": changeable,
        "minutes_of": minutes_of,
        "day_label": day_label,
    }


def visible_visit(visit_id: int, values=None, running: bool = False):
    """The visit if the user may see it (else 404), audited, and the administrator's reason;
    (None, None) while an administrator has not said why they open it."""
    reason = given_reason(values if values is not None else request.args)
    try:
        return records.get_visit(current_user, visit_id, reason, running=running), reason
    except Forbidden as exc:
        if exc.field != "reason":
            raise
        return None, None


def notice(title: str, message: str, visit: Visit | None = None, status: int = 200):
    """A short page that says why something cannot be done, with the way back."""
    return render_template("visits/notice.html", title=title, message=message, visit=visit), status


def back_to(visit: Visit) -> str:
    if current_user.role in RESIDENT_SIDE:
        return url_for("visits.mine")
    return url_for("visits.record", visit_id=visit.id)


# --- the resident's side --------------------------------------------------------------------


def bookable_residents() -> list[Resident]:
    """The residents the user may book for: themself, or those in their care (care scope)."""
    ids = visible_resident_ids(current_user, CaregiverScope.CARE)
    query = sa.select(Resident).where(Resident.id.in_(ids)).order_by(Resident.name)
    return list(db.session.scalars(query))


def recent_visits() -> list[Visit]:
    since = local_today() - timedelta(days=60)
    found = db.session.scalars(records.search(current_user, {"first": since})).all()
    done = [v for v in found if not v.is_open and v.starts_at <= utcnow()]
    return list(reversed(done))[:5]


@bp.get("/mine")
@resident_side
def mine():
    upcoming = records.upcoming_for_resident_side(current_user)
    recent = recent_visits()
    for visit in (*upcoming, *recent):
        record_access("list", visit.resident_id, "visit", visit.id)
    return render_template(
        "visits/mine.html", upcoming=upcoming, recent=recent, residents=bookable_residents()
    )


def chosen_type(values) -> VisitType | None:
    raw = values.get("visit_type")
    if not raw:
        return None
    try:
        return VisitType(raw)
    except ValueError:
        raise InvalidInput(N_("choose one of the kinds of visit"), field="visit_type") from None


def chosen_time(values) -> dict | None:
    """The doctor and start time picked from the list (None until one is picked)."""
    raw_start, raw_doctor = values.get("starts_at"), values.get("doctor_id")
    if not raw_start and not raw_doctor:
        return None
    try:
        starts_at = datetime.fromisoformat(raw_start or "")
        doctor_id = int(raw_doctor or "")
    except ValueError:
        raise InvalidInput(
            N_("the chosen time could not be read: choose a time from the list"), field="starts_at"
        ) from None
    if starts_at.tzinfo is None:
        raise InvalidInput(
            N_("the chosen time could not be read: choose a time from the list"), field="starts_at"
        )
    return {"doctor_id": doctor_id, "starts_at": starts_at}


def first_day(values):
    """The week shown: from `from` (a local date), within the booking horizon."""
    today = local_today()
    horizon = current_app.config.get("VISIT_BOOKING_DAYS", 28)
    try:
        first = date.fromisoformat(values.get("from", ""))
    except ValueError:
        first = today
    return min(max(first, today), today + timedelta(days=max(horizon - SLOT_DAYS, 0)))


def grouped_slots(resident: Resident, visit_type: VisitType, first, visit=None) -> dict:
    args = {"visit_type": visit_type, "first": first, "days": SLOT_DAYS}
    if visit is not None:  # rescheduling: the visit's own time is free to it
        args["visit_id"] = visit.id
    days: dict = {}
    for slot in booking.free_slots(resident, args):
        days.setdefault(to_local(slot["starts_at"]).date(), []).append(slot)
    return days


def slots_page(resident, visit_type, pick, *, visit=None, error=None, status=200):
    """The free times of a week, grouped by day; `pick(slot)` is each time's address."""
    first = first_day(request.args)
    horizon = current_app.config.get("VISIT_BOOKING_DAYS", 28)
    week = timedelta(days=SLOT_DAYS)
    return render_template(
        "visits/slots.html",
        resident=resident,
        visit_type=visit_type,
        visit=visit,
        days=grouped_slots(resident, visit_type, first, visit),
        pick=pick,
        first=first,
        earlier=week_url(first - week) if first > local_today() else None,
        later=week_url(first + week)
        if first + week < local_today() + timedelta(days=horizon)
        else None,
        error=error,
    ), status


def week_url(first: date) -> str:
    """This page for the week from `first` (no time picked)."""
    keep = {k: v for k, v in request.args.items() if k not in ("from", "starts_at", "doctor_id")}
    return url_for(request.endpoint, **request.view_args, **keep, **{"from": first.isoformat()})


def type_page(resident, exc=None, error_kind=None):
    """Step 1 of booking: the kind of visit (or why the resident cannot book)."""
    return render_template(
        "visits/book_type.html",
        resident=resident,
        hints=TYPE_HINTS,
        error=exc.translated() if exc else None,
        error_kind=error_kind,
    ), (FORM_ERROR if exc else 200)


@bp.route("/book/<int:resident_id>", methods=["GET", "POST"])
@bookers
def book(resident_id):
    resident = get_resident(current_user, resident_id, "book_visit")
    if not booking.may_book_for(current_user, resident):
        raise NotFound(N_("resident not found"))
    try:
        booking.own_team_id(resident)
    except InvalidInput as exc:  # not signed with a team: nothing to choose
        return type_page(resident, exc, "unsigned")
    try:
        visit_type = chosen_type(request.args)
        if visit_type is None:
            return type_page(resident)
        choice = chosen_time(request.args)
    except InvalidInput as exc:
        return type_page(resident, exc)

    def pick(slot):
        return url_for(
            ".book",
            resident_id=resident.id,
            visit_type=visit_type.value,
            doctor_id=slot["doctor_id"],
            starts_at=slot["starts_at"].isoformat(),
        )

    if choice is None:
        return slots_page(resident, visit_type, pick)
    form = BookForm()
    if form.validate_on_submit():
        data = {**choice, "visit_type": visit_type, "reason": form.reason.data}
        try:
            visit = booking.book(current_user, resident, data)
        except DomainError as exc:
            db.session.rollback()
            if exc.field == "starts_at" or isinstance(exc, Conflict):
                return slots_page(resident, visit_type, pick, error=exc.translated(), status=409)
            return confirm_page(resident, visit_type, choice, form, exc, FORM_ERROR)
        flash(_("The video visit is booked."), "info")
        return redirect(url_for(".booked", visit_id=visit.id), SEE_OTHER)
    status = FORM_ERROR if form.is_submitted() else 200
    return confirm_page(resident, visit_type, choice, form, None, status)


def confirm_page(resident, visit_type, choice, form, exc=None, status=200, visit=None):
    error = None
    if exc is not None:
        error = form.show_error(exc)
    elif form.errors:
        error = _(CORRECT_FIELDS)
    doctor = next(
        (
            d
            for d in booking.clinicians_of(booking.own_team_id(resident))
            if d.id == choice["doctor_id"]
        ),
        None,
    )
    return render_template(
        "visits/confirm.html",
        resident=resident,
        visit_type=visit_type,
        starts_at=choice["starts_at"],
        ends_at=choice["starts_at"] + length_of(visit_type),
        doctor=doctor,
        form=form,
        visit=visit,
        error=error,
        again=week_url(first_day(request.args)),
    ), status


@bp.get("/<int:visit_id>/booked")
@any_role
def booked(visit_id):
    visit, reason = visible_visit(visit_id)
    if visit is None:
        return ask_reason()
    return render_template("visits/booked.html", visit=visit, reason=reason)


def changeable_visit(visit_id: int):
    """The visit the user wants to move or cancel: 404 if unseen, 403 if not theirs to change,
    and a notice (409) when its state no longer allows it."""
    visit, _reason = visible_visit(visit_id, {})
    if not booking.may_change(current_user, visit):
        raise Forbidden(N_("you may not change this visit"))
    if not changeable(visit):
        message = _(
            "Only a booked visit that has not begun can be changed. It is now: %(status)s.",
            status=status_label(visit.status),
        )
        return visit, notice(_("This visit cannot be changed"), message, visit, 409)
    return visit, None


@bp.route("/<int:visit_id>/reschedule", methods=["GET", "POST"])
@bookers
def reschedule(visit_id):
    visit, refusal = changeable_visit(visit_id)
    if refusal:
        return refusal

    def pick(slot):
        return url_for(
            ".reschedule",
            visit_id=visit.id,
            doctor_id=slot["doctor_id"],
            starts_at=slot["starts_at"].isoformat(),
        )

    def again(error=None, status=200):
        return slots_page(
            visit.resident, visit.visit_type, pick, visit=visit, error=error, status=status
        )

    try:
        choice = chosen_time(request.args)
    except InvalidInput as exc:
        return again(exc.translated(), FORM_ERROR)
    if choice is None:
        return again()
    form = BookForm()
    del form.reason  # the reason for the visit stays as booked
    if form.validate_on_submit():
        try:
            booking.reschedule(current_user, visit, choice["starts_at"], choice["doctor_id"])
        except DomainError as exc:
            db.session.rollback()
            return again(exc.translated(), exc.status)
        flash(_("The video visit is moved."), "info")
        return redirect(url_for(".booked", visit_id=visit.id), SEE_OTHER)
    status = FORM_ERROR if form.is_submitted() else 200
    return confirm_page(visit.resident, visit.visit_type, choice, form, None, status, visit)


@bp.route("/<int:visit_id>/cancel", methods=["GET", "POST"])
@bookers
def cancel(visit_id):
    visit, refusal = changeable_visit(visit_id)
    if refusal:
        return refusal
    form = CancelForm()
    error = None
    if form.validate_on_submit():
        try:
            booking.cancel(current_user, visit, form.reason.data)
        except DomainError as exc:
            db.session.rollback()
            error = form.show_error(exc)
        else:
            flash(_("The video visit is cancelled. Everyone concerned is told."), "info")
            return redirect(back_to(visit), SEE_OTHER)
    elif form.errors:
        error = _(CORRECT_FIELDS)
    status = FORM_ERROR if form.is_submitted() else 200
    return render_template("visits/cancel.html", visit=visit, form=form, error=error), status


# The team's pages register themselves on `bp`.
from telecall import record_routes, workbench_routes  # noqa: E402, F401
