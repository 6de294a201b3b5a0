"""JSON API of alerts: the list a user may see (worst first, then the longest waiting), one
alert with its evidence, and the three things people do to one: acknowledge, resolve with a
note, snooze. Thin: the rules are in services.py, who sees what in app.policy.

Whatever a user may not see answers 404; an alert they may see but not act on (a resident,
a caregiver with view scope, a specialist) answers 403 to an action.
"""

from flask import request
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from app.accounts.models import Role
from app.alerts import queries, services
from app.alerts.schemas import (
    AlertDetailSchema,
    AlertQuerySchema,
    AlertSchema,
    EmptySchema,
    ResolveSchema,
    SnoozeSchema,
)
from app.audit.services import record_access
from app.errors import N_, Forbidden
from app.policy import require_admin_reason, roles_required
from app.schemas_common import SelectPage

blp = Blueprint("alerts_api", __name__, url_prefix="/api/v1", description="Alerts")

any_role = roles_required(*Role)


def _reason() -> str | None:
    return request.headers.get("X-Access-Reason")


def _alert(alert_id: int, acting: bool = False):
    """The alert if the user may see it (else 404), audited; 403 to act without the right."""
    require_admin_reason(current_user, _reason())
    alert = services.get_alert(current_user, alert_id)
    if acting and not services.may_act(current_user, alert):
        raise Forbidden(N_("you may see this alert but not act on it"))
    action = "act" if acting else "view"
    record_access(action, alert.resident_id, "alert", alert.id, reason=_reason())
    return alert


@blp.route("/alerts")
class Alerts(MethodView):
    @any_role
    @blp.arguments(AlertQuerySchema, location="query")
    @blp.response(200, AlertSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """Alerts of the residents you may see: the worst first, then the longest waiting"""
        require_admin_reason(current_user, _reason())
        return queries.search(current_user, args)


@blp.route("/alerts/<int:alert_id>")
class AlertById(MethodView):
    @any_role
    @blp.response(200, AlertDetailSchema)
    def get(self, alert_id):
        """One alert with the readings that raised it"""
        return _alert(alert_id)


@blp.route("/alerts/<int:alert_id>/acknowledge")
class Acknowledge(MethodView):
    @any_role
    @blp.arguments(EmptySchema)
    @blp.response(200, AlertDetailSchema)
    def post(self, _data, alert_id):
        """Say you are on it: nobody further up the ladder is told (a repeat changes nothing)"""
        return services.acknowledge(current_user, _alert(alert_id, acting=True))


@blp.route("/alerts/<int:alert_id>/resolve")
class Resolve(MethodView):
    @any_role
    @blp.arguments(ResolveSchema)
    @blp.response(200, AlertDetailSchema)
    def post(self, data, alert_id):
        """End the alert, saying what was done"""
        return services.resolve(current_user, _alert(alert_id, acting=True), data["note"])


@blp.route("/alerts/<int:alert_id>/snooze")
class Snooze(MethodView):
    @any_role
    @blp.arguments(SnoozeSchema)
    @blp.response(200, AlertDetailSchema)
    def post(self, data, alert_id):
        """Hold the ladder until a time within the next 24 hours"""
        return services.snooze(current_user, _alert(alert_id, acting=True), data["until"])
