from flask import Blueprint

from app.accounts.models import Role
from app.policy import roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/organisations")
@roles_required(Role.ADMIN)
def organisations():
    return "organisations"


@bp.get("/users")
@roles_required(Role.ADMIN)
def users():
    return "users"


@bp.get("/teams")
@roles_required(Role.ADMIN)
def teams():
    return "teams"
