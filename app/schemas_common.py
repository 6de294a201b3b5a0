"""Field rules shared by the API schemas and, where they apply, by the page forms."""

import re

import sqlalchemy as sa
from flask_smorest import Page
from marshmallow import Schema, fields, validate

from app.extensions import db

PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")

phone_validator = validate.Regexp(
    PHONE_RE, error="must be a mainland mobile (11 digits) or a landline like 021-58620000"
)
username_validator = validate.Regexp(
    USERNAME_RE, error="3-64 letters, digits, dots, dashes or underscores"
)


def text(max_length: int, required: bool = True, **kwargs) -> fields.String:
    return fields.String(
        required=required,
        validate=validate.Length(min=1 if required else 0, max=max_length),
        **kwargs,
    )


class StrictSchema(Schema):
    """Unknown fields are an error, named in the answer (marshmallow's default, stated here)."""

    class Meta:
        ordered = True


class ReasonSchema(StrictSchema):
    reason = text(500)


class OptionalReasonSchema(StrictSchema):
    reason = text(500, required=False)


class EventSchema(StrictSchema):
    """One recorded state change: who, when, from, to, why."""

    at = fields.AwareDateTime()
    actor_id = fields.Integer(allow_none=True)
    name = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


class SelectPage(Page):
    """flask-smorest pagination over a SQLAlchemy select: counts, then fetches one page."""

    @property
    def items(self):
        query = self.collection.limit(self.page_params.page_size).offset(
            self.page_params.first_item
        )
        return db.session.scalars(query).all()

    @property
    def item_count(self):
        return db.session.scalar(sa.select(sa.func.count()).select_from(self.collection.subquery()))
