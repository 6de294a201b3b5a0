"""The video-visit API's shapes. The follow-up form filled in during a visit is the
follow-ups' own (app/followups/schemas.py)."""

from marshmallow import fields, validate

from app.schemas_common import StrictSchema, text
from telecall.models import (
    ExceptionKind,
    ParticipantRole,
    RecordingStatus,
    VisitStatus,
    VisitType,
)


def _range(low, high):
    return validate.Range(min=low, max=high)


def _choice(values):
    return validate.OneOf(values)


class WindowSchema(StrictSchema):
    weekday = fields.Integer(required=True, validate=_range(0, 6))
    start_time = fields.Time(required=True)
    end_time = fields.Time(required=True)


class WeeklySchema(StrictSchema):
    team_id = fields.Integer(required=True)
    windows = fields.List(fields.Nested(WindowSchema), required=True)


class ExceptionSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    team_id = fields.Integer(required=True)
    on_date = fields.Date(required=True)
    kind = fields.Enum(ExceptionKind, by_value=True, required=True)
    start_time = fields.Time(allow_none=True, load_default=None)
    end_time = fields.Time(allow_none=True, load_default=None)
    reason = text(200, required=False)


class AvailabilitySchema(StrictSchema):
    team_id = fields.Integer()
    windows = fields.List(fields.Nested(WindowSchema))
    exceptions = fields.List(fields.Nested(ExceptionSchema))


class VisitSlotQuerySchema(StrictSchema):
    resident_id = fields.Integer(required=True)
    visit_type = fields.Enum(VisitType, by_value=True, required=True)
    doctor_id = fields.Integer()
    first = fields.Date(metadata={"description": "first local date (today by default)"})
    days = fields.Integer(validate=_range(1, 28), load_default=7)
    visit_id = fields.Integer(
        metadata={"description": "the resident's visit being rescheduled: its own time is free"}
    )


class VisitSlotSchema(StrictSchema):
    doctor_id = fields.Integer()
    doctor_name = fields.String()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()


class BookSchema(StrictSchema):
    resident_id = fields.Integer(required=True)
    doctor_id = fields.Integer(required=True)
    visit_type = fields.Enum(VisitType, by_value=True, required=True)
    starts_at = fields.AwareDateTime(required=True)
    reason = text(500, required=False)


class RescheduleSchema(StrictSchema):
    starts_at = fields.AwareDateTime(required=True)
    doctor_id = fields.Integer()


class CancelSchema(StrictSchema):
    reason = text(500)


class ParticipantSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    role = fields.Enum(ParticipantRole, by_value=True, dump_only=True)
    user_id = fields.Integer(dump_only=True, allow_none=True)
    display_name = fields.String(dump_only=True)
    first_joined_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    last_joined_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    left_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    present = fields.Boolean(dump_only=True)


class InviteSchema(StrictSchema):
    role = fields.Enum(ParticipantRole, by_value=True, required=True)
    user_id = fields.Integer()
    display_name = text(100, required=False)


class RecordingSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    status = fields.Enum(RecordingStatus, by_value=True, dump_only=True)
    bytes = fields.Integer(dump_only=True, allow_none=True)
    seconds = fields.Float(dump_only=True, allow_none=True)
    sha256 = fields.String(dump_only=True, allow_none=True)
    started_at = fields.AwareDateTime(dump_only=True)
    finished_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    purge_after = fields.Date(dump_only=True)


class QualitySummarySchema(StrictSchema):
    samples = fields.Integer()
    rtt_ms_median = fields.Float(allow_none=True)
    loss_percent_mean = fields.Float(allow_none=True)
    bitrate_kbps_mean = fields.Float(allow_none=True)
    audio_only_share = fields.Float(allow_none=True)


class VisitSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    resident_id = fields.Integer(dump_only=True)
    resident_name = fields.String(dump_only=True, attribute="resident.name")
    team_id = fields.Integer(dump_only=True)
    doctor_id = fields.Integer(dump_only=True)
    doctor_name = fields.String(dump_only=True, attribute="doctor.display_name")
    visit_type = fields.Enum(VisitType, by_value=True, dump_only=True)
    status = fields.Enum(VisitStatus, by_value=True, dump_only=True)
    starts_at = fields.AwareDateTime(dump_only=True)
    ends_at = fields.AwareDateTime(dump_only=True)
    reason = fields.String(dump_only=True)
    booked_by_id = fields.Integer(dump_only=True)
    cancel_reason = fields.String(dump_only=True, allow_none=True)
    started_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    ended_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    follow_up_id = fields.Integer(dump_only=True, allow_none=True)


class VisitDetailSchema(VisitSchema):
    notes = fields.String(dump_only=True)
    form = fields.Raw(dump_only=True, allow_none=True)
    duration_seconds = fields.Integer(dump_only=True, allow_none=True)
    participants = fields.List(
        fields.Nested(ParticipantSchema), dump_only=True, attribute="participants_shown"
    )
    recordings = fields.List(fields.Nested(RecordingSchema), dump_only=True)
    quality = fields.Nested(QualitySummarySchema, dump_only=True)
    consents = fields.List(fields.String(), dump_only=True)


class VisitQuerySchema(StrictSchema):
    resident_id = fields.Integer()
    status = fields.Enum(VisitStatus, by_value=True)
    first = fields.Date()
    last = fields.Date()


class NotesSchema(StrictSchema):
    notes = fields.String(required=True, validate=validate.Length(max=10000))


class JoinSchema(StrictSchema):
    client = fields.String(load_default="browser", validate=_choice(("browser", "python", "kiosk")))


class SignalSchema(StrictSchema):
    to = fields.Integer(required=True)
    kind = fields.String(required=True, validate=_choice(("offer", "answer", "candidate")))
    payload = fields.Dict(required=True)


class QualitySampleSchema(StrictSchema):
    peer_id = fields.Integer(allow_none=True)
    rtt_ms = fields.Float(validate=_range(0, 60000), allow_none=True)
    loss_percent = fields.Float(validate=_range(0, 100), allow_none=True)
    bitrate_kbps = fields.Float(validate=_range(0, 100000), allow_none=True)
    audio_only = fields.Boolean(load_default=False)


class RecordingFinishedSchema(StrictSchema):
    bytes = fields.Integer(required=True, validate=_range(0, 10**12))
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    seconds = fields.Float(required=True, validate=_range(0, 86400))


class DeviceCheckOfferSchema(StrictSchema):
    sdp = fields.String(required=True, validate=validate.Length(min=10, max=65536))
    type = fields.String(required=True, validate=_choice(("offer",)))
