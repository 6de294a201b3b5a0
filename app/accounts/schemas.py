from marshmallow import fields, validate

from app.accounts.models import OrganisationKind, Role, TeamMemberRole
from app.schemas_common import StrictSchema, phone_validator, text, username_validator


class OrganisationSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    code = text(32)
    name = text(200)
    kind = fields.Enum(OrganisationKind, by_value=True, required=True)
    parent_id = fields.Integer(allow_none=True, load_default=None)
    address = text(300, required=False, allow_none=True)
    phone = fields.String(allow_none=True, validate=phone_validator)
    active = fields.Boolean(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)


class OrganisationUpdateSchema(StrictSchema):
    code = text(32, required=False)
    name = text(200, required=False)
    parent_id = fields.Integer(allow_none=True)
    address = text(300, required=False, allow_none=True)
    phone = fields.String(allow_none=True, validate=phone_validator)
    active = fields.Boolean()


class OrganisationQuerySchema(StrictSchema):
    kind = fields.Enum(OrganisationKind, by_value=True)


class UserSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    username = fields.String(required=True, validate=username_validator)
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=256))
    display_name = text(100)
    phone = fields.String(allow_none=True, validate=phone_validator)
    email = fields.Email(allow_none=True, validate=validate.Length(max=200))
    role = fields.Enum(Role, by_value=True, required=True)
    organisation_id = fields.Integer(allow_none=True)
    resident_id = fields.Integer(allow_none=True)
    active = fields.Boolean(dump_only=True)
    locked_until = fields.AwareDateTime(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    last_login_at = fields.AwareDateTime(dump_only=True)


class UserUpdateSchema(StrictSchema):
    display_name = text(100, required=False)
    phone = fields.String(allow_none=True, validate=phone_validator)
    email = fields.Email(allow_none=True, validate=validate.Length(max=200))
    role = fields.Enum(Role, by_value=True)
    organisation_id = fields.Integer(allow_none=True)
    active = fields.Boolean()
    password = fields.String(load_only=True, validate=validate.Length(max=256))


class UserQuerySchema(StrictSchema):
    role = fields.Enum(Role, by_value=True)
    q = fields.String(validate=validate.Length(max=64))


class TeamMemberSchema(StrictSchema):
    user_id = fields.Integer(required=True)
    display_name = fields.String(dump_only=True, attribute="user.display_name")
    member_role = fields.Enum(TeamMemberRole, by_value=True, required=True)


class TeamSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    name = text(100)
    centre_id = fields.Integer(required=True)
    lead_id = fields.Integer(required=True, load_only=True)
    neighbourhood_ids = fields.List(fields.Integer(), load_default=list)
    capacity = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=100000))
    active = fields.Boolean(dump_only=True)
    members = fields.List(fields.Nested(TeamMemberSchema), dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)


class TeamDumpSchema(TeamSchema):
    neighbourhood_ids = fields.Function(lambda team: [n.id for n in team.neighbourhoods])


class TeamUpdateSchema(StrictSchema):
    name = text(100, required=False)
    capacity = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=100000))
    neighbourhood_ids = fields.List(fields.Integer())
    active = fields.Boolean()


class TeamLeadSchema(StrictSchema):
    user_id = fields.Integer(required=True)


class TokenRequestSchema(StrictSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=256)
    )


class TokenSchema(StrictSchema):
    access_token = fields.String()
    token_type = fields.String()
    expires_at = fields.AwareDateTime()
