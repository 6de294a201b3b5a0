from marshmallow import fields, validate

from app.schemas_common import StrictSchema, text
from wearables.models import DeviceKind, DeviceStatus


class DeviceSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    serial = text(64)
    kind = fields.Enum(DeviceKind, by_value=True, required=True)
    model = text(100, required=False, allow_none=True)
    vendor = text(100, required=False, allow_none=True)
    resident_id = fields.Integer(allow_none=True, load_default=None)
    status = fields.Enum(DeviceStatus, by_value=True, dump_only=True)
    last_seen_at = fields.AwareDateTime(dump_only=True)
    battery_level = fields.Integer(dump_only=True)
    token_issued_at = fields.AwareDateTime(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)


class DeviceWithTokenSchema(DeviceSchema):
    token = fields.String(
        dump_only=True, attribute="shown_token", metadata={"description": "shown this once only"}
    )


class BindSchema(StrictSchema):
    resident_id = fields.Integer(required=True)


class DeviceQuerySchema(StrictSchema):
    resident_id = fields.Integer(required=True)


class RejectedSchema(StrictSchema):
    index = fields.Integer()
    reason = fields.String()


class IngestResultSchema(StrictSchema):
    accepted = fields.Integer()
    duplicate = fields.Integer()
    rejected = fields.List(fields.Nested(RejectedSchema))


class ReadingSchema(StrictSchema):
    metric = fields.String()
    value = fields.Float(allow_none=True)
    unit = fields.String(allow_none=True)
    original_value = fields.Float(allow_none=True)
    original_unit = fields.String(allow_none=True)
    measured_at = fields.AwareDateTime()
    device_id = fields.Integer()


class ReadingQuerySchema(StrictSchema):
    metric = fields.String(required=True, validate=validate.Length(max=32))
    since = fields.AwareDateTime(required=True)
    until = fields.AwareDateTime(required=True)


class RollupSchema(StrictSchema):
    hour = fields.AwareDateTime(metadata={"description": "start of the hour (UTC)"})
    count = fields.Integer(metadata={"description": "readings in the hour (events included)"})
    minimum = fields.Float(allow_none=True)
    maximum = fields.Float(allow_none=True)
    mean = fields.Float(allow_none=True)
