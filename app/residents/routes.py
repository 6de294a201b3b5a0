"""Pages of the residents' register: search, register, view, edit, households.

Thin, like api.py: a form in, a policy or service call, a page out. Who may see a record is
app.policy's decision (anyone else gets 404); the rules are in services.py. The caregiver-link
pages are in caregiver_routes.py, on the same blueprint.

An administrator reads records only with a reason, given in the address (`?reason=`) and kept
in the audit log with every read.
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.models import Role
from app.audit.services import record_access
from app.errors import Conflict, Forbidden, InvalidInput
from app.pagination import audited_page
from app.policy import (
    get_resident,
    may_edit_resident,
    may_grant_caregivers,
    roles_required,
)
from app.residents import queries, services
from app.residents.forms import (
    REASON_MAX,
    EditResidentForm,
    HouseholdForm,
    ReasonForm,
    ResidentForm,
    SearchForm,
)

bp = Blueprint("residents", __name__, url_prefix="/residents", template_folder="templates")

any_role = roles_required(*Role)
team_or_admin = roles_required(Role.DOCTOR, Role.NURSE, Role.ADMIN)
# A refused form is shown again, with the reason next to the field, as 422.
FORM_ERROR = 422
FormRefused = (InvalidInput, Conflict)


# --- helpers shared with caregiver_routes ---------------------------------------------------


def given_reason(values) -> str | None:
    """An administrator's access reason from `values` (None for everyone else)."""
    if current_user.role != Role.ADMIN:
        return None
    return (values.get("reason") or "").strip()[:REASON_MAX] or None


def visible_resident(resident_id: int, action: str = "view", reason: str | None = None):
    """The resident if the policy lets the user see them (else 404), audited.

    None when an administrator has not given a reason yet: ask for one (`ask_reason`).
    """
    try:
        return get_resident(current_user, resident_id, action, reason)
    except Forbidden as exc:
        if exc.field != "reason":
            raise
        return None


def ask_reason():
    """A small form asking an administrator why they open the record; nothing of it shown."""
    form = ReasonForm(request.args)
    if "reason" in request.args:
        form.validate()
    return render_template("residents/reason.html", form=form, action=request.path)


# --- the register ----------------------------------------------------------------------------


@bp.get("/")
@team_or_admin
def index():
    form = SearchForm(request.args).setup(current_user)
    reason = given_reason(request.args)
    context = {"form": form, "results": None, "reason": reason}
    if current_user.role == Role.ADMIN and not reason:
        return render_template("residents/index.html", needs_reason=True, **context)
    if not form.validate():
        return render_template("residents/index.html", **context), FORM_ERROR
    query = queries.search(current_user, form.filters(), reason)
    context["results"] = audited_page(
        query,
        request.args.get("page", 1, type=int),
        lambda resident: record_access("list", resident.id, reason=reason),
    )
    context["args"] = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("residents/index.html", **context)


@bp.route("/new", methods=["GET", "POST"])
@team_or_admin
def new():
    form = ResidentForm().setup(current_user)
    error = None
    if form.validate_on_submit():
        try:
            resident = services.register_resident(current_user, form.service_data())
        except FormRefused as exc:
            error = form.show_error(exc)
        else:
            flash(_("The resident is registered."), "info")
            return redirect(url_for(".detail", resident_id=resident.id))
    status = FORM_ERROR if form.is_submitted() else 200
    return render_template("residents/form.html", form=form, resident=None, error=error), status


@bp.get("/<int:resident_id>")
@any_role
def detail(resident_id):
    reason = given_reason(request.args)
    resident = visible_resident(resident_id, "view", reason)
    if resident is None:
        return ask_reason()
    return render_template(
        "residents/detail.html",
        resident=resident,
        masked_id=services.masked_national_id(resident),
        may_edit=may_edit_resident(current_user),
        may_grant=may_grant_caregivers(current_user, resident),
        reason=reason,
    )


@bp.route("/<int:resident_id>/edit", methods=["GET", "POST"])
@team_or_admin
def edit(resident_id):
    reason = given_reason(request.values)
    action = "update" if request.method == "POST" else "view"
    resident = visible_resident(resident_id, action, reason)
    if resident is None:
        return ask_reason()
    form = EditResidentForm(obj=resident, reason=reason).setup(current_user, resident)
    error = None
    if form.validate_on_submit():
        changes = form.changes(resident)
        try:
            if changes:
                services.update_resident(current_user, resident, changes)
        except FormRefused as exc:
            error = form.show_error(exc)
        else:
            flash(_("The record is saved.") if changes else _("Nothing was changed."), "info")
            return redirect(url_for(".detail", resident_id=resident.id, reason=reason))
    status = FORM_ERROR if form.is_submitted() else 200
    return render_template(
        "residents/form.html", form=form, resident=resident, error=error, reason=reason
    ), status


@bp.route("/households", methods=["GET", "POST"])
@team_or_admin
def households():
    form = HouseholdForm().setup(current_user)
    error = None
    if form.validate_on_submit():
        try:
            household = services.create_household(current_user, form.service_data())
        except FormRefused as exc:
            error = form.show_error(exc)
        else:
            flash(_("Household %(code)s is created.", code=household.code), "info")
            return redirect(url_for(".households"))
    status = FORM_ERROR if form.is_submitted() else 200
    return render_template(
        "residents/households.html",
        form=form,
        error=error,
        households=services.households(current_user),
    ), status


# The caregiver-link and CSV import pages register themselves on `bp`.
from app.residents import caregiver_routes, import_routes  # noqa: E402, F401
