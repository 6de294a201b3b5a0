"""The visit record (`/visits/<id>`): what was booked, who joined when, how long, the call's
quality, the notes and the follow-up form, recordings and consents; and what the team does
in a visit from it: invite a third or fourth participant, remove one, end the visit, and
download a finished recording. On the `visits` blueprint.

An invitation's join link is shown once, in the answer to the invitation, to copy; it is
never kept in the session or the page's address.
"""

from types import SimpleNamespace

import sqlalchemy as sa
from flask import flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from app.accounts.models import User
from app.audit.services import history, record_access
from app.errors import N_, DomainError, InvalidInput, NotFound
from app.extensions import db
from app.policy import roles_required
from app.residents.routes import ask_reason
from telecall import booking, calls, notices, recording, records
from telecall.forms import FORM_FIELDS, RECORDING_LABELS, InviteForm, form_rows
from telecall.models import INVITABLE_ROLES, ParticipantRole, Recording, RecordingStatus
from telecall.routes import (
    CORRECT_FIELDS,
    FORM_ERROR,
    SEE_OTHER,
    TEAM,
    any_role,
    bp,
    status_label,
    visible_visit,
)
from telecall.tokens import join_url

team_only = roles_required(*TEAM)
JOIN_EVENTS = {"visit.joined": N_("joined"), "visit.left": N_("left")}


def joins(visit) -> list[SimpleNamespace]:
    """Who joined and left when, from the visit's recorded events, oldest first."""
    by_id = {p.id: p for p in visit.participants}
    rows = []
    for event in history("visit", visit.id):
        if event.name not in JOIN_EVENTS:
            continue
        data = event.data or {}
        person = by_id.get(data.get("participant"))
        if person is None or person.role == ParticipantRole.RECORDER:
            continue
        rows.append(
            SimpleNamespace(
                at=event.at,
                person=person,
                what=_(JOIN_EVENTS[event.name]),
                client=data.get("client"),
            )
        )
    return rows


def duration_text(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    minutes, rest = divmod(seconds, 60)
    return _("%(minutes)s min %(seconds)s s", minutes=minutes, seconds=rest)


def invite_form(visit, submitted: bool = False) -> InviteForm:
    form = InviteForm() if submitted else InviteForm(formdata=None)
    carers = notices.caregivers(visit.resident_id)
    nobody = SelectChoice("", _("Nobody with an account: type the name above"))
    form.user_id.choices = [nobody] + [SelectChoice(u.id, u.display_name) for u in carers]
    return form


def record_page(visit, reason=None, error=None, form=None, new_link=None, status=200):
    running = records.may_run(current_user, visit)
    records.detail(visit)
    return render_template(
        "visits/record.html",
        visit=visit,
        reason=reason,
        running=running,
        may_change=booking.may_change(current_user, visit),
        joins=joins(visit),
        duration=duration_text(visit.duration_seconds),
        form_rows=form_rows(visit.form),
        form_fields=FORM_FIELDS,
        recording_labels=RECORDING_LABELS,
        invite=(form or invite_form(visit)) if running and visit.is_open else None,
        invitable=INVITABLE_ROLES,
        new_link=new_link,
        error=error,
    ), status


@bp.get("/<int:visit_id>")
@any_role
def record(visit_id):
    visit, reason = visible_visit(visit_id)
    if visit is None:
        return ask_reason()
    return record_page(visit, reason)


def running_visit(visit_id: int):
    """The visit for an action of the team that runs it (404 unseen, 403 not running it)."""
    visit, _reason = visible_visit(visit_id, {}, running=True)
    return visit


def refused(visit, exc: DomainError, form=None):
    db.session.rollback()  # show the visit as it is, not half-changed
    message = exc.translated()
    if form is not None and form.show_error(exc) is None:
        message = _(CORRECT_FIELDS)
    elif exc.extra.get("current"):
        message = _(
            "This cannot be done in the visit's present state. It is now: %(status)s.",
            status=_status(exc.extra["current"]),
        )
    return record_page(visit, error=message, form=form, status=exc.status)


def _status(value: str) -> str:
    try:
        return status_label(value)
    except ValueError:
        return value


@bp.post("/<int:visit_id>/invite")
@team_only
def invite(visit_id):
    visit = running_visit(visit_id)
    form = invite_form(visit, submitted=True)
    if not form.validate_on_submit():
        return record_page(visit, error=_(CORRECT_FIELDS), form=form, status=FORM_ERROR)
    user = None
    if form.user_id.data:
        user = db.session.get(User, form.user_id.data)
        if user is None or user.id not in {c.id for c in notices.caregivers(visit.resident_id)}:
            exc = InvalidInput(N_("choose one of the resident's caregivers"), field="user_id")
            return refused(visit, exc, form)
    try:
        role = ParticipantRole(form.role.data)
        participant = calls.invite(current_user, visit, role, form.display_name.data, user)
    except DomainError as exc:
        return refused(visit, exc, form)
    db.session.flush()
    link = SimpleNamespace(participant=participant, url=join_url(participant))
    return record_page(visit, new_link=link, status=201)


@bp.post("/<int:visit_id>/participants/<int:participant_id>/remove")
@team_only
def remove_participant(visit_id, participant_id):
    visit = running_visit(visit_id)
    participant = next((p for p in visit.participants if p.id == participant_id), None)
    if participant is None:
        raise NotFound(N_("participant not found"))
    try:
        calls.remove(current_user, participant)
    except DomainError as exc:
        return refused(visit, exc)
    flash(
        _("%(name)s is removed; their link no longer works.", name=participant.display_name),
        "info",
    )
    return redirect(url_for(".record", visit_id=visit.id), SEE_OTHER)


@bp.post("/<int:visit_id>/end")
@team_only
def end(visit_id):
    visit = running_visit(visit_id)
    try:
        calls.end(current_user, visit)
    except DomainError as exc:
        return refused(visit, exc)
    flash(_("The visit is ended."), "info")
    return redirect(url_for(".record", visit_id=visit.id), SEE_OTHER)


@bp.get("/<int:visit_id>/recordings/<int:recording_id>")
@team_only
def recording_file(visit_id, recording_id):
    """A finished recording, for the team that runs the visit; every download is audited."""
    visit = running_visit(visit_id)
    found = db.session.scalars(
        sa.select(Recording).where(Recording.id == recording_id, Recording.visit_id == visit.id)
    ).first()
    if found is None or found.status != RecordingStatus.FINISHED:
        raise NotFound(N_("recording not found"))
    path = recording.path_of(found)
    if not path.is_file():
        raise NotFound(N_("recording not found"))
    record_access("download", visit.resident_id, "visit_recording", found.id)
    return send_file(
        path,
        mimetype="video/x-matroska",
        as_attachment=True,
        download_name=f"visit-{visit.id}-recording-{found.id}.mkv",
    )
