"""JSON API: a resident's alert limits, monitoring profile and consciousness assessments
(docs/ALERTS.md, "Rules and scores").

Reading: the resident's team (doctors and nurses) and administrators (with
`X-Access-Reason`). Changing limits and the profile: a doctor of the resident's team, with
a reason, kept with the change. Recording ACVPU: a doctor or nurse of the team.
"""

from flask import request
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import fields, validate

from app.accounts.models import Role
from app.alerts.models import Consciousness
from app.policy import get_resident, roles_required
from app.schemas_common import StrictSchema, text
from wearables.rules import settings

blp = Blueprint(
    "rules_api", __name__, url_prefix="/api/v1", description="Alert rules of a resident"
)
team_or_admin = roles_required(Role.DOCTOR, Role.NURSE, Role.ADMIN)
doctors = roles_required(Role.DOCTOR)
team = roles_required(Role.DOCTOR, Role.NURSE)


def _resident(resident_id: int, action: str = "view"):
    return get_resident(current_user, resident_id, action, request.headers.get("X-Access-Reason"))


class LimitSchema(StrictSchema):
    rule = fields.String()
    side = fields.String(metadata={"description": "low: at or below; high: at or above"})
    value = fields.Float()
    default = fields.Function(
        lambda limit: limit.default if limit.overridden else limit.value,
        metadata={"description": "the default value (null: this side has no default)"},
    )
    overridden = fields.Boolean()
    severity = fields.String()
    minutes = fields.Integer(metadata={"description": "0: one reading; else sustained"})
    referral = fields.Boolean(metadata={"description": "an urgent-referral criterion"})
    source = fields.String(metadata={"description": "where the default comes from"})


class OverrideSchema(StrictSchema):
    low = fields.Float(allow_none=True)
    high = fields.Float(allow_none=True)
    reason = fields.String()
    set_by_id = fields.Integer()
    set_at = fields.AwareDateTime()


class MetricLimitsSchema(StrictSchema):
    metric = fields.String()
    unit = fields.String()
    limits = fields.List(fields.Nested(LimitSchema))
    override = fields.Nested(OverrideSchema, allow_none=True)


class OverrideInputSchema(StrictSchema):
    low = fields.Float(allow_none=True, metadata={"description": "empty: keep the default"})
    high = fields.Float(allow_none=True, metadata={"description": "empty: keep the default"})
    reason = text(500)


class RemoveOverrideSchema(StrictSchema):
    reason = text(500)


class ProfileInputSchema(StrictSchema):
    hypercapnic = fields.Boolean(metadata={"description": "NEWS2 SpO2 on scale 2"})
    on_oxygen = fields.Boolean()
    silent_after_hours = fields.Integer(
        allow_none=True,
        validate=validate.Range(min=1, max=168),
        metadata={"description": "a worn device silent this long raises an alert; null: never"},
    )
    quiet_from = fields.Time(allow_none=True, metadata={"description": "local time"})
    quiet_until = fields.Time(allow_none=True, metadata={"description": "local time"})
    reason = text(500)


class ProfileSchema(StrictSchema):
    hypercapnic = fields.Boolean()
    on_oxygen = fields.Boolean()
    silent_after_hours = fields.Integer(allow_none=True)
    quiet_from = fields.Time(allow_none=True)
    quiet_until = fields.Time(allow_none=True)
    reason = fields.String(allow_none=True)
    updated_at = fields.AwareDateTime(allow_none=True)
    updated_by_id = fields.Integer(allow_none=True)
    consciousness = fields.String(metadata={"description": "latest ACVPU (A when none)"})


class AssessmentSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    level = fields.Enum(
        Consciousness,
        by_value=True,
        required=True,
        metadata={"description": "Alert, new Confusion, Voice, Pain, Unresponsive"},
    )
    assessed_at = fields.AwareDateTime(dump_only=True)
    assessed_by_id = fields.Integer(dump_only=True)


@blp.route("/residents/<int:resident_id>/alert-thresholds")
class AlertThresholds(MethodView):
    @team_or_admin
    @blp.response(200, MetricLimitsSchema(many=True))
    def get(self, resident_id):
        """The resident's alert limits: the defaults with their sources, and overrides"""
        return settings.thresholds_of(_resident(resident_id))


@blp.route("/residents/<int:resident_id>/alert-thresholds/<metric>")
class AlertThresholdByMetric(MethodView):
    @doctors
    @blp.arguments(OverrideInputSchema)
    @blp.response(200, MetricLimitsSchema)
    def put(self, data, resident_id, metric):
        """Set the resident's own limits for a metric (a doctor of the team; reason needed)"""
        resident = _resident(resident_id, "edit")
        settings.set_override(current_user, resident, metric, data)
        return next(m for m in settings.thresholds_of(resident) if m["metric"] == metric)

    @doctors
    @blp.arguments(RemoveOverrideSchema)
    @blp.response(204)
    def delete(self, data, resident_id, metric):
        """Back to the default limits for a metric (reason needed)"""
        settings.remove_override(current_user, _resident(resident_id, "edit"), metric, data)


@blp.route("/residents/<int:resident_id>/monitoring")
class Monitoring(MethodView):
    @team_or_admin
    @blp.response(200, ProfileSchema)
    def get(self, resident_id):
        """How the resident is watched: NEWS2 scale, oxygen, silence, quiet hours"""
        return settings.profile_of(_resident(resident_id))

    @doctors
    @blp.arguments(ProfileInputSchema)
    @blp.response(200, ProfileSchema)
    def put(self, data, resident_id):
        """Change how the resident is watched (a doctor of the team; reason needed)"""
        resident = _resident(resident_id, "edit")
        settings.update_profile(current_user, resident, data)
        return settings.profile_of(resident)


@blp.route("/residents/<int:resident_id>/consciousness")
class ConsciousnessAssessments(MethodView):
    @team
    @blp.arguments(AssessmentSchema)
    @blp.response(201, AssessmentSchema)
    def post(self, data, resident_id):
        """Record an ACVPU assessment (NEWS2 takes the latest)"""
        resident = _resident(resident_id, "edit")
        return settings.assess_consciousness(current_user, resident, data["level"])
