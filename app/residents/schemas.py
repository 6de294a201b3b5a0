from marshmallow import fields, validate

from app.residents.models import (
    CaregiverRelationship,
    CaregiverScope,
    ChronicCondition,
    LinkStatus,
    Mobility,
    Sex,
)
from app.residents.services import masked_national_id
from app.schemas_common import StrictSchema, phone_validator, text

national_id_field = fields.String(
    validate=validate.Length(equal=18, error="must be 18 characters"),
    metadata={"description": "18-character national ID number (GB 11643); stored encrypted"},
)


class ResidentSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    name = text(100)
    sex = fields.Enum(Sex, by_value=True, required=True)
    birth_date = fields.Date(required=True)
    age = fields.Integer(dump_only=True)
    national_id = fields.String(
        required=True,
        load_only=True,
        validate=national_id_field.validate,
        metadata=national_id_field.metadata,
    )
    national_id_masked = fields.Function(masked_national_id, dump_only=True)
    phone = fields.String(allow_none=True, validate=phone_validator)
    address = text(300)
    neighbourhood_id = fields.Integer(required=True)
    household_id = fields.Integer(allow_none=True)
    living_alone = fields.Boolean(load_default=False)
    mobility = fields.Enum(Mobility, by_value=True, load_default=Mobility.INDEPENDENT)
    conditions = fields.List(fields.Enum(ChronicCondition, by_value=True), load_default=list)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class ResidentUpdateSchema(StrictSchema):
    name = text(100, required=False)
    sex = fields.Enum(Sex, by_value=True)
    birth_date = fields.Date()
    national_id = fields.String(validate=national_id_field.validate)
    phone = fields.String(allow_none=True, validate=phone_validator)
    address = text(300, required=False)
    neighbourhood_id = fields.Integer()
    household_id = fields.Integer(allow_none=True)
    living_alone = fields.Boolean()
    mobility = fields.Enum(Mobility, by_value=True)
    conditions = fields.List(fields.Enum(ChronicCondition, by_value=True))


class ResidentQuerySchema(StrictSchema):
    q = fields.String(validate=validate.Length(max=100), metadata={"description": "name contains"})
    neighbourhood_id = fields.Integer()
    condition = fields.Enum(ChronicCondition, by_value=True)
    min_age = fields.Integer(validate=validate.Range(min=0, max=130))
    living_alone = fields.Boolean()


class CaregiverLinkSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    resident_id = fields.Integer(dump_only=True)
    caregiver_id = fields.Integer(required=True)
    caregiver_name = fields.String(dump_only=True, attribute="caregiver.display_name")
    relationship = fields.Enum(
        CaregiverRelationship, by_value=True, required=True, attribute="relationship_kind"
    )
    scope = fields.Enum(CaregiverScope, by_value=True, required=True)
    ends_on = fields.Date(required=True)
    priority = fields.Integer(load_default=1, validate=validate.Range(min=1, max=9))
    status = fields.Enum(LinkStatus, by_value=True, dump_only=True)
    in_force = fields.Boolean(dump_only=True)
    granted_by_id = fields.Integer(dump_only=True)
    granted_at = fields.AwareDateTime(dump_only=True)
    ended_at = fields.AwareDateTime(dump_only=True)


class RevokeSchema(StrictSchema):
    reason = text(500, required=False)


class HouseholdSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    code = text(32)
    address = text(300)
    neighbourhood_id = fields.Integer(required=True)
