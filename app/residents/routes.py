from flask import Blueprint

from app.accounts.models import Role
from app.policy import roles_required

bp = Blueprint("residents", __name__, url_prefix="/residents")


@bp.get("/")
@roles_required(Role.DOCTOR, Role.NURSE, Role.ADMIN)
def index():
    return "residents"


@bp.get("/new")
@roles_required(Role.DOCTOR, Role.NURSE, Role.ADMIN)
def new():
    return "new"


@bp.get("/<int:resident_id>")
@roles_required(*Role)
def detail(resident_id):
    return "detail"


@bp.get("/<int:resident_id>/caregivers")
@roles_required(*Role)
def caregivers(resident_id):
    return "caregivers"
