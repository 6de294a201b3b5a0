"""JSON API: the residents' register and caregiver links, filtered by the access policy.

An administrator must send `X-Access-Reason` to read a record; the reason is audited.
"""

from flask import request
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from app.accounts.models import Role
from app.policy import get_resident, roles_required
from app.residents import queries, services
from app.residents.models import CaregiverScope
from app.residents.schemas import (
    CaregiverLinkSchema,
    HouseholdSchema,
    ResidentQuerySchema,
    ResidentSchema,
    ResidentUpdateSchema,
    RevokeSchema,
)

blp = Blueprint("residents_api", __name__, url_prefix="/api/v1", description="Residents' register")

any_role = roles_required(*Role)
team_or_admin = roles_required(Role.DOCTOR, Role.NURSE, Role.ADMIN)
REASON_HEADER = "X-Access-Reason"


def _reason() -> str | None:
    return request.headers.get(REASON_HEADER)


def _resident(resident_id: int, action: str = "view", scope=CaregiverScope.VIEW):
    return get_resident(current_user, resident_id, action, _reason(), scope)


@blp.route("/residents")
class Residents(MethodView):
    @any_role
    @blp.arguments(ResidentQuerySchema, location="query")
    @blp.response(200, ResidentSchema(many=True))
    @blp.paginate(queries.AuditedResidentPage)
    def get(self, args):
        """Residents this user may see (need-to-know), filtered"""
        return queries.search(current_user, args, _reason())

    @team_or_admin
    @blp.arguments(ResidentSchema)
    @blp.response(201, ResidentSchema)
    def post(self, data):
        """Register a resident (in a neighbourhood your team serves)"""
        return services.register_resident(current_user, data)


@blp.route("/residents/<int:resident_id>")
class ResidentById(MethodView):
    @any_role
    @blp.response(200, ResidentSchema)
    def get(self, resident_id):
        return _resident(resident_id)

    @team_or_admin
    @blp.arguments(ResidentUpdateSchema)
    @blp.response(200, ResidentSchema)
    def patch(self, data, resident_id):
        return services.update_resident(current_user, _resident(resident_id), data)


@blp.route("/residents/<int:resident_id>/caregivers")
class ResidentCaregivers(MethodView):
    @any_role
    @blp.response(200, CaregiverLinkSchema(many=True))
    def get(self, resident_id):
        """Caregiver links of a resident, the ended ones included"""
        return _resident(resident_id).caregiver_links

    @roles_required(Role.RESIDENT, Role.DOCTOR)
    @blp.arguments(CaregiverLinkSchema)
    @blp.response(201, CaregiverLinkSchema)
    def post(self, data, resident_id):
        """Grant a caregiver access (the resident, or a doctor of their team)"""
        return services.grant_caregiver(current_user, _resident(resident_id), data)


@blp.route("/residents/<int:resident_id>/caregivers/<int:link_id>/revoke")
class RevokeCaregiver(MethodView):
    @roles_required(Role.RESIDENT, Role.DOCTOR)
    @blp.arguments(RevokeSchema)
    @blp.response(200, CaregiverLinkSchema)
    def post(self, data, resident_id, link_id):
        resident = _resident(resident_id)
        return services.revoke_caregiver(
            current_user, services.get_link(resident, link_id), data.get("reason")
        )


@blp.route("/households")
class Households(MethodView):
    decorators = [team_or_admin]

    @blp.response(200, HouseholdSchema(many=True))
    def get(self):
        """Households in the neighbourhoods your teams serve"""
        return services.households(current_user)

    @blp.arguments(HouseholdSchema)
    @blp.response(201, HouseholdSchema)
    def post(self, data):
        return services.create_household(current_user, data)
