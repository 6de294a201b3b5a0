"""JSON API of follow-ups: the list a user may see, one with what it led to, planning one
by hand, recording its result (which plans what the rules call for) and cancelling it.
Thin: the rules are in services.py and schedule.py, who sees what in services.visible.

Whatever a user may not see answers 404; one they may see but not act on (a resident, a
caregiver, an administrator) answers 403 to an action.
"""

from flask import request
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import fields, validate

from app.accounts.models import Role
from app.errors import N_, Forbidden
from app.extensions import db
from app.followups import queries, services
from app.followups.models import (
    Classification,
    FollowUp,
    FollowUpMode,
    FollowUpSource,
    FollowUpStatus,
)
from app.followups.rules import SCHEDULED_CONDITIONS
from app.followups.schemas import FollowUpFormSchema
from app.policy import get_resident, require_admin_reason, roles_required
from app.schemas_common import ReasonSchema, SelectPage, StrictSchema, text

blp = Blueprint("followups_api", __name__, url_prefix="/api/v1", description="Follow-ups")

any_role = roles_required(*Role)
team_staff = roles_required(Role.DOCTOR, Role.NURSE)
PURPOSE_MAX = 500


def _enum(enum_cls, **kwargs):
    return fields.Enum(enum_cls, by_value=True, **kwargs)


class FollowUpSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    resident_id = fields.Integer(dump_only=True)
    resident_name = fields.String(dump_only=True, attribute="resident.name")
    team_id = fields.Integer(dump_only=True)
    mode = _enum(FollowUpMode, dump_only=True)
    due_date = fields.Date(dump_only=True)
    status = _enum(FollowUpStatus, dump_only=True)
    source = _enum(FollowUpSource, dump_only=True)
    source_id = fields.Integer(dump_only=True, allow_none=True)
    purpose = fields.String(dump_only=True)
    condition = fields.String(dump_only=True, allow_none=True)
    created_at = fields.AwareDateTime(dump_only=True)
    done_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    done_by_id = fields.Integer(dump_only=True, allow_none=True)
    classification = _enum(Classification, dump_only=True, allow_none=True)
    next_id = fields.Integer(dump_only=True, allow_none=True)
    referral_id = fields.Integer(dump_only=True, allow_none=True)
    closed_reason = fields.String(dump_only=True, allow_none=True)


class FollowUpDetailSchema(FollowUpSchema):
    form = fields.Raw(dump_only=True, allow_none=True)
    next = fields.Method("_next", dump_only=True, allow_none=True)

    def _next(self, follow_up):
        """The follow-up it led to: when, how and why."""
        if follow_up.next_id is None:
            return None
        following = db.session.get(FollowUp, follow_up.next_id)
        return FollowUpSchema(only=("id", "due_date", "mode", "purpose", "status")).dump(following)


class FollowUpQuerySchema(StrictSchema):
    team_id = fields.Integer()
    resident_id = fields.Integer()
    status = _enum(FollowUpStatus)
    mode = _enum(FollowUpMode)
    due_from = fields.Date()
    due_to = fields.Date()
    overdue = fields.Boolean(metadata={"description": "still due with its due date passed"})


class PlanSchema(StrictSchema):
    resident_id = fields.Integer(required=True)
    team_id = fields.Integer(
        allow_none=True, metadata={"description": "default: your team serving the resident"}
    )
    due_date = fields.Date(required=True)
    mode = _enum(FollowUpMode, required=True)
    purpose = text(PURPOSE_MAX)
    condition = fields.String(allow_none=True, validate=validate.OneOf(SCHEDULED_CONDITIONS))


class ResultSchema(StrictSchema):
    mode = _enum(FollowUpMode, required=True, metadata={"description": "how it took place"})
    done_at = fields.AwareDateTime(allow_none=True, metadata={"description": "default: now"})
    form = fields.Nested(
        FollowUpFormSchema,
        allow_none=True,
        metadata={"description": "the national form; required for a chronic-disease one"},
    )


class ResultAnswerSchema(StrictSchema):
    follow_up = fields.Nested(FollowUpDetailSchema, dump_only=True)
    next = fields.Nested(FollowUpSchema, dump_only=True, allow_none=True)


def _reason() -> str | None:
    return request.headers.get("X-Access-Reason")


def _follow_up(follow_up_id: int, acting: bool = False) -> FollowUp:
    """The follow-up if the user may see it (else 404), audited; 403 to act without the right."""
    follow_up = services.get_follow_up(
        current_user, follow_up_id, _reason(), "act" if acting else "view"
    )
    if acting and not services.may_act(current_user, follow_up):
        raise Forbidden(N_("you may see this follow-up but not act on it"))
    return follow_up


@blp.route("/follow-ups")
class FollowUps(MethodView):
    @any_role
    @blp.arguments(FollowUpQuerySchema, location="query")
    @blp.response(200, FollowUpSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """Follow-ups you may see, the soonest due first"""
        require_admin_reason(current_user, _reason())
        return queries.search(current_user, args)

    @team_staff
    @blp.arguments(PlanSchema)
    @blp.response(201, FollowUpDetailSchema)
    def post(self, data):
        """Plan a follow-up of a resident of your team by hand"""
        resident = get_resident(current_user, data["resident_id"], "plan_follow_up")
        return services.plan_by_hand(
            current_user,
            resident,
            data["due_date"],
            data["mode"],
            data["purpose"],
            team_id=data.get("team_id"),
            condition=data.get("condition"),
        )


@blp.route("/follow-ups/<int:follow_up_id>")
class FollowUpById(MethodView):
    @any_role
    @blp.response(200, FollowUpDetailSchema)
    def get(self, follow_up_id):
        """One follow-up, with the form and what it led to (the next one, a referral)"""
        return _follow_up(follow_up_id)


@blp.route("/follow-ups/<int:follow_up_id>/result")
class Result(MethodView):
    @any_role
    @blp.arguments(ResultSchema)
    @blp.response(200, ResultAnswerSchema)
    def post(self, data, follow_up_id):
        """Record the contact; its form's classification plans the next one by the rules"""
        follow_up = services.record_result(
            _follow_up(follow_up_id, acting=True),
            current_user,
            data["mode"],
            data.get("done_at"),
            data.get("form"),
        )
        following = db.session.get(FollowUp, follow_up.next_id) if follow_up.next_id else None
        return {"follow_up": follow_up, "next": following}


@blp.route("/follow-ups/<int:follow_up_id>/cancel")
class Cancel(MethodView):
    @any_role
    @blp.arguments(ReasonSchema)
    @blp.response(200, FollowUpDetailSchema)
    def post(self, data, follow_up_id):
        """Cancel a due follow-up, saying why"""
        follow_up = _follow_up(follow_up_id, acting=True)
        return services.close(follow_up, FollowUpStatus.CANCELLED, data["reason"], current_user)
