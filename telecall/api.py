"""The video-visit JSON API for signed-in people and API clients: availability, free slots,
booking, the visit record, and what the doctor does in a visit. Thin: rules live in the
services (availability, booking, calls, records, recording)."""

from flask import request
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import fields

from app.accounts.models import Role, User
from app.errors import N_, InvalidInput, NotFound
from app.extensions import db
from app.followups.schemas import FollowUpFormSchema
from app.policy import get_resident, roles_required
from app.schemas_common import SelectPage
from app.timeutil import local_today
from telecall import availability, booking, calls, echo, recording, records
from telecall.models import Availability, AvailabilityException, VisitParticipant
from telecall.schemas import (
    AvailabilitySchema,
    BookSchema,
    CancelSchema,
    DeviceCheckOfferSchema,
    ExceptionSchema,
    InviteSchema,
    NotesSchema,
    ParticipantSchema,
    RecordingSchema,
    RescheduleSchema,
    VisitDetailSchema,
    VisitQuerySchema,
    VisitSchema,
    VisitSlotQuerySchema,
    VisitSlotSchema,
    WeeklySchema,
)
from telecall.tokens import join_url

blp = Blueprint("visits_api", __name__, url_prefix="/api/v1", description="Video visits")
any_role = roles_required(*Role)
clinician = roles_required(Role.DOCTOR, Role.NURSE, Role.ADMIN)


def _reason() -> str | None:
    return request.headers.get("X-Access-Reason")


def _visit(visit_id: int, running: bool = False):
    return records.get_visit(current_user, visit_id, _reason(), running=running)


@blp.route("/availability")
class Weekly(MethodView):
    @clinician
    @blp.arguments(VisitSlotQuerySchema(only=("doctor_id",), partial=True), location="query")
    @blp.response(200, AvailabilitySchema(many=True))
    def get(self, args):
        """A doctor's weekly windows and coming exceptions, per team (your own by default)"""
        doctor_id = args.get("doctor_id") or current_user.id
        return [_availability_of(doctor_id, team_id) for team_id in _teams_of(doctor_id)]

    @clinician
    @blp.arguments(WeeklySchema)
    @blp.response(200, AvailabilitySchema)
    def put(self, args):
        """Replace your weekly windows for a team"""
        availability.set_weekly(current_user, current_user, args["team_id"], args["windows"])
        return _availability_of(current_user.id, args["team_id"])


def _teams_of(doctor_id: int) -> list[int]:
    doctor = db.session.get(User, doctor_id)
    if doctor is None or doctor.role not in availability.CLINICIAN_ROLES:
        raise NotFound(N_("doctor not found"))
    return doctor.team_ids


def _availability_of(doctor_id: int, team_id: int) -> dict:
    windows = db.session.scalars(
        db.select(Availability)
        .where(Availability.doctor_id == doctor_id, Availability.team_id == team_id)
        .order_by(Availability.weekday, Availability.start_time)
    ).all()
    exceptions = db.session.scalars(
        db.select(AvailabilityException)
        .where(
            AvailabilityException.doctor_id == doctor_id,
            AvailabilityException.team_id == team_id,
            AvailabilityException.on_date >= local_today(),
        )
        .order_by(AvailabilityException.on_date)
    ).all()
    return {"team_id": team_id, "windows": windows, "exceptions": exceptions}


@blp.post("/availability/exceptions")
@clinician
@blp.arguments(ExceptionSchema)
@blp.response(201, ExceptionSchema)
def add_exception(args):
    """A day off (closed) or extra hours on one date"""
    team_id = args.pop("team_id")
    return availability.add_exception(current_user, current_user, team_id, args)


@blp.delete("/availability/exceptions/<int:exception_id>")
@clinician
@blp.response(204)
def remove_exception(exception_id):
    """Remove an exception"""
    availability.remove_exception(current_user, exception_id)


@blp.get("/visit-slots")
@any_role
@blp.arguments(VisitSlotQuerySchema, location="query")
@blp.response(200, VisitSlotSchema(many=True))
def slots(args):
    """Free start times with the resident's own team, for a visit type"""
    resident = get_resident(current_user, args["resident_id"], reason=_reason())
    if not booking.may_book_for(current_user, resident):
        raise NotFound(N_("resident not found"))
    return booking.free_slots(resident, args)


@blp.route("/visits")
class Visits(MethodView):
    @any_role
    @blp.arguments(VisitQuerySchema, location="query")
    @blp.response(200, VisitSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """Visits you may see, soonest first"""
        return records.search(current_user, args)

    @any_role
    @blp.arguments(BookSchema)
    @blp.response(201, VisitSchema)
    def post(self, args):
        """Book a free slot with the resident's own team"""
        resident = get_resident(current_user, args["resident_id"], "book_visit", _reason())
        return booking.book(current_user, resident, args)


@blp.get("/visits/<int:visit_id>")
@any_role
@blp.response(200, VisitDetailSchema)
def visit_detail(visit_id):
    """One visit: who joined when, duration, quality, notes, form, recordings"""
    return records.detail(_visit(visit_id))


@blp.post("/visits/<int:visit_id>/reschedule")
@any_role
@blp.arguments(RescheduleSchema)
@blp.response(200, VisitSchema)
def reschedule(args, visit_id):
    """Move a booked visit to another free time"""
    return booking.reschedule(
        current_user, _visit(visit_id), args["starts_at"], args.get("doctor_id")
    )


@blp.post("/visits/<int:visit_id>/cancel")
@any_role
@blp.arguments(CancelSchema)
@blp.response(200, VisitSchema)
def cancel(args, visit_id):
    """Cancel a booked visit, with a reason"""
    return booking.cancel(current_user, _visit(visit_id), args["reason"])


@blp.post("/visits/<int:visit_id>/end")
@clinician
@blp.response(200, VisitSchema)
def end(visit_id):
    """End the visit (the doctor); a remote follow-up counts toward the schedule"""
    return calls.end(current_user, _visit(visit_id, running=True))


@blp.put("/visits/<int:visit_id>/form")
@clinician
@blp.arguments(FollowUpFormSchema)
@blp.response(200, VisitDetailSchema)
def save_form(args, visit_id):
    """Save the follow-up form to the visit"""
    visit = records.save_form(current_user, _visit(visit_id, running=True), args)
    return records.detail(visit)


@blp.put("/visits/<int:visit_id>/notes")
@clinician
@blp.arguments(NotesSchema)
@blp.response(200, VisitDetailSchema)
def save_notes(args, visit_id):
    """Save the doctor's notes"""
    visit = records.save_notes(current_user, _visit(visit_id, running=True), args["notes"])
    return records.detail(visit)


class InvitedSchema(ParticipantSchema):
    join_url = fields.String(dump_only=True)


@blp.post("/visits/<int:visit_id>/participants")
@clinician
@blp.arguments(InviteSchema)
@blp.response(201, InvitedSchema)
def invite(args, visit_id):
    """Invite a caregiver, an interpreter or a specialist; the answer holds their join link"""
    visit = _visit(visit_id, running=True)
    user = db.session.get(User, args["user_id"]) if args.get("user_id") else None
    if args.get("user_id") and user is None:
        raise InvalidInput(N_("no such user"), field="user_id")
    participant = calls.invite(current_user, visit, args["role"], args.get("display_name"), user)
    participant.join_url = join_url(participant)
    return participant


@blp.delete("/visits/<int:visit_id>/participants/<int:participant_id>")
@clinician
@blp.response(204)
def remove(visit_id, participant_id):
    """Remove an invited participant; their link stops working"""
    visit = _visit(visit_id, running=True)
    participant = db.session.get(VisitParticipant, participant_id)
    if participant is None or participant.visit_id != visit.id:
        raise NotFound(N_("participant not found"))
    calls.remove(current_user, participant)


@blp.post("/visits/<int:visit_id>/recordings")
@clinician
@blp.response(202, RecordingSchema)
def start_recording(visit_id):
    """Start recording; refused without the consent of both the resident and the doctor"""
    return recording.start(current_user, _visit(visit_id, running=True))


@blp.delete("/visits/<int:visit_id>/recordings")
@clinician
@blp.response(204)
def stop_recording(visit_id):
    """Stop the running recording; the recorder then reports the file"""
    recording.stop(current_user, _visit(visit_id, running=True))


@blp.post("/device-check/offer")
@blp.arguments(DeviceCheckOfferSchema)
def device_check(args):
    """Echo check: the media process sends the caller's own camera and microphone back"""
    echo.require_caller()
    return echo.answer(args)
