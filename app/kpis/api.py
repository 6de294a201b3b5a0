"""JSON API of the KPIs: the definitions and the town's settings, the board of an area over a
period, the residents behind a number, and changing targets and weights (administrators).
Thin: app/kpis/board.py computes, app/kpis/settings.py decides, app/kpis/drilldown.py
lists; app/kpis/areas.py says who may look at which area.
"""

from flask import request
from flask.views import MethodView
from flask_babel import gettext
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import fields, validate

from app.accounts.models import Role
from app.kpis import board, drilldown, registry, settings
from app.kpis.areas import AreaKind, default_area, period_from
from app.policy import roles_required
from app.schemas_common import StrictSchema, text

blp = Blueprint("kpis_api", __name__, url_prefix="/api/v1/kpis", description="KPIs")

staff = roles_required(Role.ADMIN, Role.DOCTOR, Role.NURSE)
admin = roles_required(Role.ADMIN)


class KpiAreaQuerySchema(StrictSchema):
    area = fields.Enum(AreaKind, by_value=True, metadata={"description": "default: yours"})
    area_id = fields.Integer(metadata={"description": "the committee or team"})
    start = fields.Date(metadata={"description": "default: the first of the end's month"})
    end = fields.Date(metadata={"description": "default: today (Shanghai)"})


class KpiMembersQuerySchema(KpiAreaQuerySchema):
    met = fields.Boolean(metadata={"description": "only those that count (or not)"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))


class KpiSettingSchema(StrictSchema):
    target = fields.Float(allow_none=True)
    yellow = fields.Float(allow_none=True, metadata={"description": "edge of yellow and red"})
    weight = fields.Integer(metadata={"description": "points on the score sheet"})


class KpiSettingsChangeSchema(StrictSchema):
    settings = fields.Dict(
        keys=fields.String(), values=fields.Nested(KpiSettingSchema), required=True
    )
    reason = text(500, required=False)


class KpiDefinitionSchema(StrictSchema):
    key = fields.String()
    label = fields.String()
    description = fields.String()
    unit = fields.String()
    better = fields.String(allow_none=True)
    target = fields.Float(allow_none=True)
    yellow = fields.Float(allow_none=True)
    weight = fields.Integer()


class KpiMemberSchema(StrictSchema):
    resident_id = fields.Integer()
    name = fields.String()
    neighbourhood = fields.String()
    met = fields.Boolean(allow_none=True)
    at = fields.Method("_at", allow_none=True, metadata={"description": "date or date-time"})
    note = fields.String(allow_none=True)

    def _at(self, row):
        return None if row.at is None else row.at.isoformat()


class KpiMembersPageSchema(StrictSchema):
    items = fields.List(fields.Nested(KpiMemberSchema))
    total = fields.Integer()
    number = fields.Integer()
    pages = fields.Integer()


class KpiAreaSchema(StrictSchema):
    kind = fields.String()
    id = fields.Integer()
    name = fields.String()


class KpiPeriodSchema(StrictSchema):
    start = fields.Date()
    end = fields.Date()


class KpiFigureSchema(StrictSchema):
    key = fields.String()
    unit = fields.String()
    better = fields.String(allow_none=True)
    value = fields.Float(allow_none=True, metadata={"description": "a share is 0..1"})
    numerator = fields.Integer(allow_none=True)
    denominator = fields.Integer(allow_none=True)
    detail = fields.Dict()
    target = fields.Float(allow_none=True)
    yellow = fields.Float(allow_none=True)
    weight = fields.Integer()
    colour = fields.String(allow_none=True, metadata={"description": "green, yellow or red"})


class KpiScoreRowSchema(StrictSchema):
    key = fields.String()
    weight = fields.Integer()
    target = fields.Float(allow_none=True)
    value = fields.Float(allow_none=True)
    points = fields.Float()


class KpiScoreSchema(StrictSchema):
    rows = fields.List(fields.Nested(KpiScoreRowSchema))
    points = fields.Float()
    out_of = fields.Integer()


class KpiRowSchema(KpiAreaSchema):
    figures = fields.List(fields.Nested(KpiFigureSchema))


class KpiTrendPointSchema(StrictSchema):
    month = fields.Date()
    values = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True))


class KpiBoardSchema(StrictSchema):
    area = fields.Nested(KpiAreaSchema)
    period = fields.Nested(KpiPeriodSchema)
    generated_at = fields.AwareDateTime()
    figures = fields.List(fields.Nested(KpiFigureSchema))
    score = fields.Nested(KpiScoreSchema)
    rows = fields.List(fields.Nested(KpiRowSchema))
    trend = fields.List(fields.Nested(KpiTrendPointSchema))


def _area(args) -> tuple[AreaKind, int | None]:
    if "area" not in args:
        return default_area(current_user)
    return args["area"], args.get("area_id")


def definitions() -> list[dict]:
    current = settings.current()
    return [
        {
            "key": kpi.key,
            "label": gettext(kpi.label),
            "description": gettext(kpi.description),
            "unit": kpi.unit,
            "better": kpi.better,
            **current[kpi.key].as_dict(),
        }
        for kpi in registry.all_kpis()
    ]


@blp.route("")
class Definitions(MethodView):
    @staff
    @blp.response(200, KpiDefinitionSchema(many=True))
    def get(self):
        """Every KPI: what it counts, its unit, which way is better, its target and weight"""
        return definitions()


@blp.route("/settings")
class Settings(MethodView):
    @admin
    @blp.arguments(KpiSettingsChangeSchema)
    @blp.response(200, KpiDefinitionSchema(many=True))
    def put(self, data):
        """Change targets, yellow edges and weights; the weights must add up to 1000"""
        settings.update(data["settings"], current_user, data.get("reason"))
        return definitions()


@blp.route("/board")
class Board(MethodView):
    @staff
    @blp.arguments(KpiAreaQuerySchema, location="query")
    @blp.response(200, KpiBoardSchema)
    def get(self, args):
        """The board of an area over a period: figures and colours, the score sheet, the
        committees and teams beneath the town, and the monthly trend"""
        kind, area_id = _area(args)
        period = period_from(args.get("start"), args.get("end"))
        return board.board(current_user, kind, area_id, period)


@blp.route("/<key>/residents")
class Members(MethodView):
    @staff
    @blp.arguments(KpiMembersQuerySchema, location="query")
    @blp.response(200, KpiMembersPageSchema)
    def get(self, args, key):
        """The residents behind a figure, as far as you may see them (administrators give
        X-Access-Reason)"""
        kind, area_id = _area(args)
        period = period_from(args.get("start"), args.get("end"))
        reason = request.headers.get("X-Access-Reason")
        return drilldown.page(
            current_user, key, kind, area_id, period, args.get("met"), args["page"], reason
        )
