"""The alerts API's shapes. Messages are stored as English message ids with values; the API
answers with the id, its values and the English sentence (pages show the reader's language)."""

from marshmallow import fields

from app.alerts.models import AlertStatus, Severity
from app.schemas_common import StrictSchema, text

NOTE_MAX = 2000


def english(alert) -> str:
    try:
        return alert.message % (alert.params or {})
    except (KeyError, TypeError, ValueError):  # a message whose values do not fit: say it raw
        return alert.message


class EvidenceSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    reading_id = fields.Integer(dump_only=True, allow_none=True)
    metric = fields.String(dump_only=True, allow_none=True)
    value = fields.Float(dump_only=True, allow_none=True)
    observed_at = fields.AwareDateTime(dump_only=True)
    detail = fields.Raw(dump_only=True)


class AlertSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    resident_id = fields.Integer(dump_only=True)
    resident_name = fields.String(dump_only=True, attribute="resident.name")
    rule = fields.String(dump_only=True)
    severity = fields.Enum(Severity, by_value=True, dump_only=True)
    status = fields.Enum(AlertStatus, by_value=True, dump_only=True)
    message = fields.String(dump_only=True)
    params = fields.Raw(dump_only=True)
    text = fields.Function(english, dump_only=True)
    device_id = fields.Integer(dump_only=True, allow_none=True)
    opened_at = fields.AwareDateTime(dump_only=True)
    last_evidence_at = fields.AwareDateTime(dump_only=True)
    evidence_count = fields.Integer(dump_only=True)
    step = fields.Integer(dump_only=True)
    next_step_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    snoozed_until = fields.AwareDateTime(dump_only=True, allow_none=True)
    acknowledged_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    acknowledged_by_id = fields.Integer(dump_only=True, allow_none=True)
    resolved_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    resolved_by_id = fields.Integer(dump_only=True, allow_none=True)
    resolution_note = fields.String(dump_only=True, allow_none=True)


class AlertDetailSchema(AlertSchema):
    evidence = fields.List(fields.Nested(EvidenceSchema), dump_only=True)


class AlertQuerySchema(StrictSchema):
    status = fields.Enum(AlertStatus, by_value=True)
    severity = fields.Enum(Severity, by_value=True)
    resident_id = fields.Integer()
    active = fields.Boolean(metadata={"description": "open, escalated or acknowledged only"})


class EmptySchema(StrictSchema):
    """No fields: an unknown one is an error, named in the answer."""


class ResolveSchema(StrictSchema):
    note = text(NOTE_MAX, metadata={"description": "what was done"})


class SnoozeSchema(StrictSchema):
    until = fields.AwareDateTime(
        required=True, metadata={"description": "within the next 24 hours"}
    )
