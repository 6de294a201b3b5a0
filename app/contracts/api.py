"""JSON API: family-doctor contracts and their transitions (POST actions; 409 when the
contract's state does not allow one, with the current state)."""

from flask import request
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from app.accounts.models import Role
from app.contracts import queries, services
from app.contracts.models import ServicePackage
from app.contracts.packages import includes
from app.contracts.schemas import (
    ConsentSchema,
    ContractQuerySchema,
    ContractSchema,
    EventSchema,
    OptionalReasonSchema,
    PackageSchema,
    ReasonSchema,
)
from app.policy import get_resident, roles_required
from app.residents.models import CaregiverScope
from app.schemas_common import SelectPage

blp = Blueprint(
    "contracts_api", __name__, url_prefix="/api/v1", description="Family-doctor contracts"
)

any_role = roles_required(*Role)
team_or_admin = roles_required(Role.DOCTOR, Role.NURSE, Role.ADMIN)


def _reason() -> str | None:
    return request.headers.get("X-Access-Reason")


def _contract(contract_id: int):
    return services.get_contract(current_user, contract_id, _reason())


@blp.route("/contracts")
class Contracts(MethodView):
    @any_role
    @blp.arguments(ContractQuerySchema, location="query")
    @blp.response(200, ContractSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """Contracts of the residents you may see, filtered"""
        return queries.search(current_user, args, _reason())

    @roles_required(Role.RESIDENT, Role.CAREGIVER, Role.DOCTOR, Role.NURSE, Role.ADMIN)
    @blp.arguments(ContractSchema)
    @blp.response(201, ContractSchema)
    def post(self, data):
        """Request signing (resident, proxy caregiver) or draft a contract (team)"""
        staff = current_user.role in (Role.DOCTOR, Role.NURSE, Role.ADMIN)
        scope = CaregiverScope.VIEW if staff else CaregiverScope.PROXY
        resident = get_resident(current_user, data.pop("resident_id"), "view", _reason(), scope)
        create = services.draft_contract if staff else services.request_contract
        return create(current_user, resident, data)


@blp.route("/contracts/packages")
class Packages(MethodView):
    @any_role
    @blp.response(200, PackageSchema(many=True))
    def get(self):
        """Service packages and what each includes"""
        return [{"package": p.value, "includes": includes(p)} for p in ServicePackage]


@blp.route("/contracts/<int:contract_id>")
class ContractById(MethodView):
    @any_role
    @blp.response(200, ContractSchema)
    def get(self, contract_id):
        return _contract(contract_id)


@blp.route("/contracts/<int:contract_id>/events")
class ContractEvents(MethodView):
    @any_role
    @blp.response(200, EventSchema(many=True))
    def get(self, contract_id):
        """Every transition: who, when, from, to, why"""
        return queries.history(_contract(contract_id))


@blp.route("/contracts/<int:contract_id>/accept")
class Accept(MethodView):
    @team_or_admin
    @blp.response(200, ContractSchema)
    def post(self, contract_id):
        """Accept a request or finish a draft: it now waits for the resident's consent"""
        return services.accept(current_user, _contract(contract_id))


@blp.route("/contracts/<int:contract_id>/reject")
class Reject(MethodView):
    @team_or_admin
    @blp.arguments(ReasonSchema)
    @blp.response(200, ContractSchema)
    def post(self, data, contract_id):
        return services.reject(current_user, _contract(contract_id), data["reason"])


@blp.route("/contracts/<int:contract_id>/cancel")
class Cancel(MethodView):
    @any_role
    @blp.arguments(OptionalReasonSchema)
    @blp.response(200, ContractSchema)
    def post(self, data, contract_id):
        return services.cancel(current_user, _contract(contract_id), data.get("reason"))


@blp.route("/contracts/<int:contract_id>/consent")
class Consent(MethodView):
    @any_role
    @blp.arguments(ConsentSchema)
    @blp.response(200, ContractSchema)
    def post(self, data, contract_id):
        """Consent online (resident), as proxy (caregiver) or in person (recorded by the team)"""
        contract = _contract(contract_id)
        return services.record_consent(current_user, contract, data["method"], data["text_version"])


@blp.route("/contracts/<int:contract_id>/terminate")
class Terminate(MethodView):
    @team_or_admin
    @blp.arguments(ReasonSchema)
    @blp.response(200, ContractSchema)
    def post(self, data, contract_id):
        return services.terminate(current_user, _contract(contract_id), data["reason"])
