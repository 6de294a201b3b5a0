"""JSON API: the MQTT messages the bridge could not store (dead letters), newest first, for
administrators fixing a vendor's integration. The device token was removed before keeping.

`GET /api/v1/mqtt/dead-letters?reason=&device_id=&page=&page_size=` (flask-smorest paging:
the `X-Pagination` header carries the totals). Administrators only; anyone else 403.
"""

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields

from app.accounts.models import Role
from app.policy import roles_required
from app.schemas_common import SelectPage, StrictSchema
from wearables.models import DeadLetter, DeadLetterReason

blp = Blueprint(
    "dead_letters_api", __name__, url_prefix="/api/v1/mqtt", description="MQTT dead letters"
)


class DeadLetterQuerySchema(StrictSchema):
    reason = fields.Enum(DeadLetterReason, by_value=True)
    device_id = fields.Integer()


class DeadLetterSchema(StrictSchema):
    id = fields.Integer()
    received_at = fields.AwareDateTime()
    topic = fields.String()
    reason = fields.Enum(DeadLetterReason, by_value=True)
    detail = fields.String(allow_none=True)
    device_id = fields.Integer(
        allow_none=True, metadata={"description": "null when the token was unknown"}
    )
    payload = fields.String(metadata={"description": "as received, device token removed"})


def dead_letters_query(
    reason: DeadLetterReason | None = None, device_id: int | None = None
) -> sa.Select:
    """Dead letters, newest first (the id breaks ties of one instant); the page uses it too."""
    query = sa.select(DeadLetter).order_by(DeadLetter.received_at.desc(), DeadLetter.id.desc())
    if reason is not None:
        query = query.where(DeadLetter.reason == reason)
    if device_id is not None:
        query = query.where(DeadLetter.device_id == device_id)
    return query


@blp.route("/dead-letters")
class DeadLetters(MethodView):
    @roles_required(Role.ADMIN)
    @blp.arguments(DeadLetterQuerySchema, location="query")
    @blp.response(200, DeadLetterSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """MQTT messages that were not stored (whole or in part), newest first"""
        return dead_letters_query(args.get("reason"), args.get("device_id"))
