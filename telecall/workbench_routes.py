"""The team's video-visit pages: the workbench (today's visits and who is waiting, kept live
by a small script that polls `/visits/waiting.json`), booking for a resident, and the
doctor's availability (weekly windows per team, dated exceptions). On the `visits` blueprint.
"""

from datetime import timedelta

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.audit.services import record_access
from app.contracts.models import Contract
from app.errors import DomainError
from app.extensions import db
from app.policy import roles_required
from app.residents.models import Resident
from app.timeutil import local_today, utcnow
from telecall import availability, records
from telecall.forms import WEEKDAYS, ExceptionForm, WeeklyForm
from telecall.models import Availability, AvailabilityException
from telecall.routes import (
    CORRECT_FIELDS,
    FORM_ERROR,
    RESIDENT_SIDE,
    SEE_OTHER,
    TEAM,
    any_role,
    bp,
    role_label,
    status_label,
)

team_only = roles_required(*TEAM)
UPCOMING_DAYS = 7
BLANK_ROWS = 2  # empty weekly rows offered under the saved ones


# --- the workbench --------------------------------------------------------------------------


def signed_residents() -> list[Resident]:
    """Residents under a contract in force with one of the user's teams (they can be booked)."""
    today = local_today()
    query = (
        sa.select(Resident)
        .join(Contract, Contract.resident_id == Resident.id)
        .where(
            Contract.team_id.in_(current_user.team_ids or [-1]),
            Contract.active_from <= today,
            Contract.active_until > today,
        )
        .order_by(Resident.name)
        .distinct()
    )
    return list(db.session.scalars(query))


def upcoming(days: int = UPCOMING_DAYS) -> list:
    """The team's open visits of the coming days (after today)."""
    tomorrow = local_today() + timedelta(days=1)
    args = {"first": tomorrow, "last": tomorrow + timedelta(days=days - 1)}
    return [v for v in db.session.scalars(records.search(current_user, args)) if v.is_open]


def team_today(mine: list) -> list:
    today = local_today()
    found = db.session.scalars(records.search(current_user, {"first": today, "last": today}))
    own = {v.id for v in mine}
    return [v for v in found if v.id not in own and v.status.value != "cancelled"]


@bp.get("/")
@any_role
def workbench():
    if current_user.role in RESIDENT_SIDE:
        return redirect(url_for(".mine"))
    if current_user.role not in TEAM:
        abort(403)
    now = utcnow()
    today = records.doctor_day(current_user, local_today())
    others, later = team_today(today), upcoming()
    for visit in (*today, *others, *later):
        record_access("list", visit.resident_id, "visit", visit.id)
    return render_template(
        "visits/workbench.html",
        today=today,
        others=others,
        later=later,
        waiting={v.id: records.waiting(v, now) for v in (*today, *others)},
        residents=signed_residents(),
    )


def waiting_entry(visit, now) -> dict:
    people = records.waiting(visit, now)
    return {
        "id": visit.id,
        "status": visit.status.value,
        "status_label": status_label(visit.status),
        "open": visit.is_open,
        "waiting": [
            {
                "id": p.id,
                "role": p.role.value,
                "role_label": role_label(p.role),
                "name": p.display_name,
            }
            for p in people
        ],
    }


@bp.get("/waiting.json")
@team_only
def waiting_json():
    """Who is in the visit room now, for each of today's visits on the workbench."""
    now = utcnow()
    mine = records.doctor_day(current_user, local_today())
    visits = [*mine, *team_today(mine)]
    return {"visits": [waiting_entry(v, now) for v in visits], "at": now.isoformat()}


@bp.get("/book")
@team_only
def book_pick():
    """The workbench's "book for a resident" choice, sent on to that resident's booking."""
    resident_id = request.args.get("resident_id", type=int)
    if not resident_id:
        flash(_("Choose a resident to book for."), "error")
        return redirect(url_for(".workbench"))
    return redirect(url_for(".book", resident_id=resident_id))


# --- availability ---------------------------------------------------------------------------


def windows_of(team_id: int) -> list[Availability]:
    return list(
        db.session.scalars(
            sa.select(Availability)
            .where(Availability.doctor_id == current_user.id, Availability.team_id == team_id)
            .order_by(Availability.weekday, Availability.start_time)
        )
    )


def exceptions_of(team_id: int) -> list[AvailabilityException]:
    return list(
        db.session.scalars(
            sa.select(AvailabilityException)
            .where(
                AvailabilityException.doctor_id == current_user.id,
                AvailabilityException.team_id == team_id,
                AvailabilityException.on_date >= local_today(),
            )
            .order_by(AvailabilityException.on_date, AvailabilityException.start_time)
        )
    )


def weekly_form(team_id: int, extra: int = BLANK_ROWS) -> WeeklyForm:
    saved = windows_of(team_id)
    rows = [
        {"weekday": w.weekday, "start_time": w.start_time, "end_time": w.end_time} for w in saved
    ]
    data = {"rows": rows + [{}] * extra}
    return WeeklyForm(formdata=None, prefix=f"t{team_id}", data=data)


def my_teams() -> list:
    return [m.team for m in current_user.memberships if m.team.active]


def availability_page(forms=None, error=None, status=200):
    """Each of the user's teams with its weekly form and exceptions; `forms` holds a submitted
    form to show instead of the saved state ({("weekly"|"exception", team id): form})."""
    forms = forms or {}
    sections = []
    for team in my_teams():
        sections.append(
            {
                "team": team,
                "weekly": forms.get(("weekly", team.id)) or weekly_form(team.id),
                "exception": forms.get(("exception", team.id))
                or ExceptionForm(formdata=None, prefix=f"x{team.id}"),
                "exceptions": exceptions_of(team.id),
            }
        )
    return render_template(
        "visits/availability.html", sections=sections, weekdays=WEEKDAYS, error=error
    ), status


def team_of_user(team_id: int):
    team = next((t for t in my_teams() if t.id == team_id), None)
    if team is None:
        abort(404)
    return team


@bp.get("/availability")
@team_only
def availability_edit():
    return availability_page()


@bp.post("/availability/<int:team_id>/weekly")
@team_only
def availability_weekly(team_id):
    team = team_of_user(team_id)
    form = WeeklyForm(prefix=f"t{team.id}")
    if "more_rows" in request.form:  # more empty rows, nothing saved yet
        for _index in range(BLANK_ROWS + 1):
            form.rows.append_entry()
        return availability_page({("weekly", team.id): form})
    if not (form.validate_on_submit() and form.check_rows()):
        return availability_page({("weekly", team.id): form}, _(CORRECT_FIELDS), FORM_ERROR)
    windows, where = form.windows()
    try:
        availability.set_weekly(current_user, current_user, team.id, windows)
    except DomainError as exc:
        db.session.rollback()
        return availability_page(
            {("weekly", team.id): form}, weekly_error(form, where, exc), exc.status
        )
    flash(_("The weekly hours of %(team)s are saved.", team=team.name), "info")
    return redirect(url_for(".availability_edit"), SEE_OTHER)


def weekly_error(form: WeeklyForm, where: list[int], exc: DomainError) -> str:
    """Put the service's error on the row it names ("windows.<n>", n among the kept rows)."""
    field = exc.field or ""
    if field.startswith("windows."):
        index = int(field.split(".")[1])
        if index < len(where):
            row = form.rows[where[index]].form
            row.end_time.errors = [*row.end_time.errors, exc.translated()]
            return _(CORRECT_FIELDS)
    return exc.translated()


@bp.post("/availability/<int:team_id>/exceptions")
@team_only
def availability_exception(team_id):
    team = team_of_user(team_id)
    form = ExceptionForm(prefix=f"x{team.id}")
    if not form.validate_on_submit():
        return availability_page({("exception", team.id): form}, _(CORRECT_FIELDS), FORM_ERROR)
    try:
        availability.add_exception(current_user, current_user, team.id, form.service_data())
    except DomainError as exc:
        db.session.rollback()
        message = form.show_error(exc) or _(CORRECT_FIELDS)
        return availability_page({("exception", team.id): form}, message, exc.status)
    flash(_("The change to your hours is saved."), "info")
    return redirect(url_for(".availability_edit"), SEE_OTHER)


@bp.post("/availability/exceptions/<int:exception_id>/remove")
@team_only
def availability_exception_remove(exception_id):
    availability.remove_exception(current_user, exception_id)
    flash(_("The change to your hours is removed."), "info")
    return redirect(url_for(".availability_edit"), SEE_OTHER)
