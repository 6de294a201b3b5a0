from marshmallow import fields, validate

from app.schemas_common import (  # noqa: F401  (re-exported for the routes)
    EventSchema,
    OptionalReasonSchema,
    ReasonSchema,
    StrictSchema,
    text,
)
from referral.models import MessageKind, ReferralStatus, SlotStatus, Urgency


class SlotSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    department_id = fields.Integer(dump_only=True)
    specialist_id = fields.Integer(dump_only=True, allow_none=True)
    starts_at = fields.AwareDateTime(dump_only=True)
    ends_at = fields.AwareDateTime(dump_only=True)
    reserved_for_referrals = fields.Boolean(dump_only=True)
    status = fields.Enum(SlotStatus, by_value=True, dump_only=True)


class SlotSeriesSchema(StrictSchema):
    department_id = fields.Integer(required=True)
    specialist_id = fields.Integer(allow_none=True)
    starts_at = fields.AwareDateTime(required=True)
    count = fields.Integer(load_default=1, validate=validate.Range(min=1, max=200))
    minutes = fields.Integer(load_default=15, validate=validate.Range(min=5, max=240))
    reserved_share = fields.Float(load_default=0.5, validate=validate.Range(min=0, max=1))


class SlotQuerySchema(StrictSchema):
    department_id = fields.Integer(required=True)
    reserved_only = fields.Boolean(load_default=False)


class MessageSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    author_id = fields.Integer(dump_only=True)
    kind = fields.Enum(MessageKind, by_value=True, dump_only=True)
    body = text(4000)
    created_at = fields.AwareDateTime(dump_only=True)


class AttachmentSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    filename = fields.String(dump_only=True)
    content_type = fields.String(dump_only=True)
    size = fields.Integer(dump_only=True)
    uploaded_at = fields.AwareDateTime(dump_only=True)


class FollowUpActionSchema(StrictSchema):
    action = text(300)
    due_in_days = fields.Integer(load_default=14, validate=validate.Range(min=0, max=365))
    mode = fields.String(
        load_default="clinic", validate=validate.OneOf(["clinic", "home", "phone", "video"])
    )


class ReturnSchema(StrictSchema):
    discharge_summary = text(20000)
    diagnoses = text(4000)
    medication_changes = text(4000, required=False, allow_none=True)
    long_prescription = fields.Boolean(load_default=False)
    care_plan = text(20000)
    follow_up_actions = fields.List(fields.Nested(FollowUpActionSchema), load_default=list)
    returned_at = fields.AwareDateTime(dump_only=True)
    accepted_at = fields.AwareDateTime(dump_only=True)
    acknowledged_at = fields.AwareDateTime(dump_only=True)
    overdue_flagged_at = fields.AwareDateTime(dump_only=True)


class ReferralSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    resident_id = fields.Integer(required=True)
    resident_name = fields.String(dump_only=True, attribute="resident.name")
    team_id = fields.Integer(allow_none=True, load_default=None)
    referring_doctor_id = fields.Integer(dump_only=True)
    hospital_id = fields.Integer(dump_only=True)
    hospital_name = fields.String(dump_only=True, attribute="hospital.name")
    department_id = fields.Integer(required=True)
    department_name = fields.String(dump_only=True, attribute="department.name")
    urgency = fields.Enum(Urgency, by_value=True, required=True)
    status = fields.Enum(ReferralStatus, by_value=True, dump_only=True)
    source = fields.String(dump_only=True)
    reason = text(500)
    clinical_summary = text(20000)
    current_medication = text(4000, required=False, allow_none=True)
    other_hospital_reason = text(500, required=False, allow_none=True)
    vitals = fields.Raw(dump_only=True)
    slot = fields.Nested(SlotSchema, dump_only=True, allow_none=True)
    rejection_reason = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    sent_at = fields.AwareDateTime(dump_only=True)
    accepted_at = fields.AwareDateTime(dump_only=True)
    escalated_at = fields.AwareDateTime(dump_only=True)
    closed_at = fields.AwareDateTime(dump_only=True)
    discharge = fields.Nested(ReturnSchema, dump_only=True, allow_none=True)
    attachments = fields.List(fields.Nested(AttachmentSchema), dump_only=True)


class ReferralQuerySchema(StrictSchema):
    status = fields.Enum(ReferralStatus, by_value=True)
    urgency = fields.Enum(Urgency, by_value=True)
    resident_id = fields.Integer()
    department_id = fields.Integer()
    hospital_id = fields.Integer()
    team_id = fields.Integer()
    open_loop = fields.Boolean()
    flagged = fields.Boolean()


class SendSchema(StrictSchema):
    slot_id = fields.Integer(allow_none=True, load_default=None)


class AcceptSchema(StrictSchema):
    slot_id = fields.Integer(allow_none=True, load_default=None)
