"""JSON API: the referral figures over a period (definitions: docs/REFERRALS.md, "Figures").

Aggregate figures are not a resident's record, so an administrator needs no reason here.
Doctors and nurses count their teams' referrals, specialists their department's.
"""

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import RAISE, ValidationError, fields, validate, validates_schema

from app.accounts.models import Role
from app.policy import roles_required
from app.schemas_common import StrictSchema
from referral import stats

blp = Blueprint(
    "referral_stats_api", __name__, url_prefix="/api/v1", description="Referral figures"
)

staff = roles_required(Role.DOCTOR, Role.NURSE, Role.SPECIALIST, Role.ADMIN)


class ReferralStatsQuerySchema(StrictSchema):
    start = fields.Date(
        data_key="from",
        metadata={"description": "first day, Shanghai (default: 29 days before `to`)"},
    )
    end = fields.Date(
        data_key="to", metadata={"description": "last day, included (default: today, Shanghai)"}
    )
    by = fields.String(
        load_default="hospital",
        validate=validate.OneOf(stats.BREAKDOWNS),
        metadata={"description": "rows per hospital, department or referring team"},
    )

    @validates_schema
    def _period(self, data, **kwargs):
        start, end = stats.period(data.get("start"), data.get("end"))
        if start > end:
            raise ValidationError("must not be after to (or today)", "from")


class ReferralAcceptanceSchema(StrictSchema):
    count = fields.Integer()
    median_hours = fields.Float(allow_none=True)
    p90_hours = fields.Float(allow_none=True, metadata={"description": "90th percentile"})


class RejectionReasonCountSchema(StrictSchema):
    reason = fields.String(allow_none=True, metadata={"description": "null: none given"})
    count = fields.Integer()


class ReferralRejectionsSchema(StrictSchema):
    count = fields.Integer()
    reasons = fields.List(
        fields.Nested(RejectionReasonCountSchema), metadata={"description": "top 10"}
    )


class ReferralLoopSchema(StrictSchema):
    returned = fields.Integer()
    closed = fields.Integer()
    closed_share = fields.Float(allow_none=True)
    median_days_to_close = fields.Float(allow_none=True)


class ReferralFiguresSchema(StrictSchema):
    up = fields.Integer(metadata={"description": "referrals sent in the period"})
    down = fields.Integer(metadata={"description": "returns made in the period"})
    acceptance = fields.Nested(ReferralAcceptanceSchema)
    rejections = fields.Nested(ReferralRejectionsSchema)
    loop = fields.Nested(ReferralLoopSchema)
    open_loops = fields.Integer(metadata={"description": "now, whatever the period"})


class ReferralOverallSchema(ReferralFiguresSchema):
    up_by_urgency = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "by urgency: " + ", ".join(stats.URGENCIES)},
    )


class ReferralRowSchema(ReferralFiguresSchema):
    id = fields.Integer()
    name = fields.String()
    hospital = fields.String(
        allow_none=True, metadata={"description": "departments only: the hospital's name"}
    )


class ReferralStatsSchema(StrictSchema):
    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")
    by = fields.String()
    overall = fields.Nested(ReferralOverallSchema)
    rows = fields.List(fields.Nested(ReferralRowSchema))


@blp.route("/stats/referrals")
class ReferralStats(MethodView):
    @staff
    # A misspelt parameter would silently give the default figures: unknown ones are refused.
    @blp.arguments(ReferralStatsQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, ReferralStatsSchema)
    def get(self, args):
        """Referrals up and down, time to acceptance, rejections and loop closure over a period,
        by hospital, department or referring team"""
        return stats.report(current_user, args.get("start"), args.get("end"), args["by"])
