from marshmallow import fields, validate

from app.contracts.models import ConsentMethod, ContractStatus, ServicePackage
from app.contracts.packages import includes
from app.schemas_common import (  # noqa: F401  (re-exported for the routes)
    EventSchema,
    OptionalReasonSchema,
    ReasonSchema,
    StrictSchema,
    text,
)


class ConsentSchema(StrictSchema):
    method = fields.Enum(ConsentMethod, by_value=True, required=True)
    text_version = text(32)
    given_by_id = fields.Integer(dump_only=True, allow_none=True)
    recorded_by_id = fields.Integer(dump_only=True)
    given_at = fields.AwareDateTime(dump_only=True)


class ContractSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    resident_id = fields.Integer(required=True)
    resident_name = fields.String(dump_only=True, attribute="resident.name")
    team_id = fields.Integer(required=True)
    team_name = fields.String(dump_only=True, attribute="team.name")
    district_hospital_id = fields.Integer(allow_none=True, load_default=None)
    municipal_hospital_id = fields.Integer(allow_none=True, load_default=None)
    package = fields.Enum(ServicePackage, by_value=True, required=True)
    includes = fields.Function(lambda c: includes(c.package), dump_only=True)
    status = fields.Enum(ContractStatus, by_value=True, dump_only=True)
    start_date = fields.Date(dump_only=True)
    end_date = fields.Date(dump_only=True)
    active_from = fields.Date(dump_only=True)
    active_until = fields.Date(dump_only=True)
    renews_id = fields.Integer(dump_only=True)
    requested_by_id = fields.Integer(dump_only=True)
    end_reason = fields.String(dump_only=True)
    consents = fields.List(fields.Nested(ConsentSchema), dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)


class ContractQuerySchema(StrictSchema):
    status = fields.Enum(ContractStatus, by_value=True)
    team_id = fields.Integer()
    resident_id = fields.Integer()
    neighbourhood_id = fields.Integer()
    package = fields.Enum(ServicePackage, by_value=True)
    ends_within_days = fields.Integer(validate=validate.Range(min=0, max=3660))


class PackageSchema(StrictSchema):
    package = fields.String()
    includes = fields.List(fields.String())
