"""JSON API: the signing-rate figures (definitions: docs/CONTRACTS.md, "Figures").

Aggregate figures are not a resident's record, so an administrator needs no reason here.
Doctors and nurses get the neighbourhoods their teams serve and their own teams.
"""

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import RAISE, ValidationError, fields, validate, validates_schema

from app.accounts.models import Role
from app.contracts import stats
from app.policy import roles_required
from app.schemas_common import StrictSchema
from app.timeutil import local_today

blp = Blueprint(
    "contracts_stats_api", __name__, url_prefix="/api/v1", description="Contract figures"
)

team_or_admin = roles_required(Role.DOCTOR, Role.NURSE, Role.ADMIN)


class StatsQuerySchema(StrictSchema):
    on = fields.Date(metadata={"description": "the day counted (default: today, Shanghai)"})
    by = fields.String(
        load_default="neighbourhood",
        validate=validate.OneOf(stats.BREAKDOWNS),
        metadata={"description": "rows per neighbourhood committee or per team"},
    )
    renewal_from = fields.Date(metadata={"description": "default: 12 months before renewal_to"})
    renewal_to = fields.Date(metadata={"description": "default: `on`"})

    @validates_schema
    def _period(self, data, **kwargs):
        start, end = data.get("renewal_from"), data.get("renewal_to")
        end = end or data.get("on") or local_today()
        if start is not None and start > end:
            raise ValidationError("must not be after renewal_to (or on)", "renewal_from")


class FigureSchema(StrictSchema):
    registered = fields.Integer()
    signed = fields.Integer()
    rate = fields.Float(allow_none=True)
    colour = fields.String(allow_none=True, metadata={"description": "green, yellow, red or null"})


def _groups(**kwargs):
    return fields.Dict(keys=fields.String(), values=fields.Nested(FigureSchema), **kwargs)


class RowSchema(StrictSchema):
    id = fields.Integer()
    name = fields.String()
    groups = _groups()
    panel = fields.Integer(metadata={"description": "teams only: residents under contract"})
    capacity = fields.Integer(allow_none=True, metadata={"description": "teams only"})


class RenewalSchema(StrictSchema):
    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")
    renewed = fields.Integer()
    expired = fields.Integer()
    rate = fields.Float(allow_none=True)


class ThresholdsSchema(StrictSchema):
    green = fields.Float()
    yellow = fields.Float()


class StatsSchema(StrictSchema):
    on = fields.Date()
    by = fields.String()
    overall = _groups(metadata={"description": "by group: " + ", ".join(stats.GROUPS)})
    rows = fields.List(fields.Nested(RowSchema))
    renewal = fields.Nested(RenewalSchema)
    thresholds = fields.Nested(ThresholdsSchema)


@blp.route("/stats/contracts")
class ContractStats(MethodView):
    @team_or_admin
    # A misspelt parameter would silently give today's figures: unknown ones are refused.
    @blp.arguments(StatsQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, StatsSchema)
    def get(self, args):
        """Signing rates on a day, by group and by neighbourhood or team; the renewal rate"""
        return stats.report(
            current_user,
            args.get("on") or local_today(),
            args["by"],
            args.get("renewal_from"),
            args.get("renewal_to"),
        )
