"""JSON API: clinical score calculators. They read and keep no resident data; any signed-in
user may use them.

`POST /api/v1/scores/news2`: NEWS2 (RCP 2017) of the observations sent (docs/ALERTS.md).
"""

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from app.accounts.models import Role
from app.policy import roles_required
from app.schemas_common import StrictSchema
from wearables import news2
from wearables.metrics import METRICS

blp = Blueprint("scores_api", __name__, url_prefix="/api/v1", description="Clinical scores")


class StrictBoolean(fields.Boolean):
    """JSON true or false only: "yes" or 1 for "on oxygen" is more likely a client's mistake
    than a decision."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def _measurement(metric: str, low: float | None = None, high: float | None = None, **metadata):
    """A number within the range the ingest accepts for `metric` (a value outside it is a
    typing or sensor error, not a patient), unless the bounds are given."""
    bounds = METRICS[metric]
    return fields.Float(
        allow_none=True,
        validate=validate.Range(
            min=bounds.low if low is None else low, max=bounds.high if high is None else high
        ),
        metadata=metadata,
    )


class News2InputSchema(StrictSchema):
    """Every field may be missing (or null): the answer is then partial."""

    respiratory_rate = _measurement("respiratory_rate", description="breaths per minute")
    spo2 = _measurement("spo2", low=0, high=100, description="%")
    spo2_scale = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.OneOf(news2.SPO2_SCALES),
        metadata={"description": "1 (default), or 2 for hypercapnic respiratory failure"},
    )
    on_oxygen = StrictBoolean(allow_none=True, metadata={"description": "false: on air"})
    systolic_bp = _measurement("systolic_bp", description="mmHg")
    heart_rate = _measurement("heart_rate", description="beats per minute")
    consciousness = fields.String(
        allow_none=True,
        validate=validate.OneOf(news2.ACVPU),
        metadata={"description": "ACVPU: Alert, new Confusion, Voice, Pain, Unresponsive"},
    )
    temperature = _measurement("body_temperature", description="°C")


class News2ResultSchema(StrictSchema):
    total = fields.Integer(metadata={"description": "0-20"})
    band = fields.Enum(news2.Band, by_value=True)
    scores = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "points of each parameter sent"},
    )
    partial = fields.Boolean(metadata={"description": "some parameters were missing"})
    missing = fields.List(fields.String())


@blp.route("/scores/news2")
class News2Calculator(MethodView):
    @roles_required(*Role)
    @blp.arguments(News2InputSchema)
    @blp.response(200, News2ResultSchema)
    def post(self, vitals):
        """NEWS2 (RCP 2017) of one set of observations"""
        return news2.score(vitals)
