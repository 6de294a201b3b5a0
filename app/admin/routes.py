"""The administrator's pages: organisations, user accounts and family-doctor teams.

Thin routes: a form in, a service call, a redirect or a page out. A service's refusal
(DomainError) re-renders the form with 422, its message next to the field it names; the
request boundary then rolls back, so a refused change leaves nothing written.
"""

from collections import defaultdict

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.accounts import services
from app.accounts.models import OrganisationKind, Role
from app.admin import forms
from app.contracts import services as contracts
from app.errors import DomainError
from app.labels import label
from app.policy import roles_required
from app.timeutil import utcnow

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")
admin_only = roles_required(Role.ADMIN)


def show_error(form, exc: DomainError) -> None:
    """Put a service's refusal next to the field it names, else at the top of the form."""
    message = exc.translated()
    if exc.field and exc.field in form and exc.field != "csrf_token":
        form[exc.field].errors = [*form[exc.field].errors, message]
    else:
        form.form_errors.append(message)


def page(template: str, **context):
    """A form page: 422 when it comes back after a refused POST."""
    status = 422 if request.method == "POST" else 200
    return render_template(template, **context), status


def done(message: str, endpoint: str, **values):
    flash(message, "info")
    return redirect(url_for(endpoint, **values), 303)


# --- organisations -------------------------------------------------------------------------


def _organisation_groups(kind: OrganisationKind | None) -> list:
    """[(kind, [(organisation, depth)])]: departments sit under their hospital or centre."""
    everything = services.organisations()
    departments = defaultdict(list)
    for org in everything:
        if org.kind == OrganisationKind.DEPARTMENT and org.parent_id is not None:
            departments[org.parent_id].append(org)
    groups = []
    for group_kind in OrganisationKind:
        if kind is not None and group_kind != kind:
            continue
        rows = []
        for org in (o for o in everything if o.kind == group_kind):
            if group_kind == OrganisationKind.DEPARTMENT:
                if kind is None and org.parent_id is not None:
                    continue  # listed under its parent
                rows.append((org, 0))
                continue
            rows.append((org, 0))
            rows += [(department, 1) for department in departments[org.id]]
        if rows:
            groups.append((group_kind, rows))
    return groups


@bp.get("/organisations")
@admin_only
def organisations():
    filters = forms.OrganisationFilterForm(request.args)
    kind = filters.kind.data if filters.validate() else None
    groups = _organisation_groups(kind)
    return render_template("admin/organisations.html", filters=filters, groups=groups)


@bp.route("/organisations/new", methods=["GET", "POST"])
@admin_only
def organisation_new():
    form = forms.OrganisationForm()
    if form.validate_on_submit():
        try:
            org = services.create_organisation(form.service_data())
        except DomainError as exc:
            show_error(form, exc)
        else:
            return done(_("Organisation %(name)s created.", name=org.name), ".organisations")
    return page("admin/organisation_form.html", form=form, org=None)


@bp.route("/organisations/<int:org_id>/edit", methods=["GET", "POST"])
@admin_only
def organisation_edit(org_id: int):
    org = services.get_organisation(org_id)
    form = forms.OrganisationEditForm(org=org)
    if form.validate_on_submit():
        try:
            services.update_organisation(org, form.service_data())
        except DomainError as exc:
            show_error(form, exc)
        else:
            return done(_("Organisation %(name)s saved.", name=org.name), ".organisations")
    return page("admin/organisation_form.html", form=form, org=org)


# --- users ---------------------------------------------------------------------------------


@bp.get("/users")
@admin_only
def users():
    filters = forms.UserFilterForm(request.args)
    valid = filters.validate()
    role = filters.role.data if valid else None
    search = filters.q.data if valid else None
    found = services.users(role=role, search=search or None)
    return render_template("admin/users.html", filters=filters, users=found, now=utcnow())


@bp.route("/users/new", methods=["GET", "POST"])
@admin_only
def user_new():
    form = forms.UserCreateForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(form.service_data())
        except DomainError as exc:
            show_error(form, exc)
        else:
            return done(_("Account %(name)s created.", name=user.username), ".users")
    return page("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@admin_only
def user_edit(user_id: int):
    user = services.get_user(user_id)
    form = forms.UserEditForm(user=user)
    if form.validate_on_submit():
        try:
            services.update_user(user, form.service_data())
        except DomainError as exc:
            show_error(form, exc)
        else:
            return done(_("Account %(name)s saved.", name=user.username), ".users")
    unlock = forms.UnlockForm(formdata=None)
    return page("admin/user_form.html", form=form, user=user, unlock=unlock, now=utcnow())


@bp.post("/users/<int:user_id>/unlock")
@admin_only
def user_unlock(user_id: int):
    """Re-enable an account: this also clears a lock after failed sign-ins."""
    user = services.get_user(user_id)
    form = forms.UnlockForm()
    if form.validate_on_submit():
        services.set_active(user, True, reason="re-enabled by an administrator")
        return done(_("Account %(name)s is enabled and unlocked.", name=user.username), ".users")
    edit = forms.UserEditForm(formdata=None, user=user)
    return page("admin/user_form.html", form=edit, user=user, unlock=form, now=utcnow())


# --- teams ---------------------------------------------------------------------------------


@bp.get("/teams")
@admin_only
def teams():
    loads = contracts.team_loads()
    return render_template("admin/teams.html", teams=services.teams(), loads=loads)


@bp.route("/teams/new", methods=["GET", "POST"])
@admin_only
def team_new():
    form = forms.TeamCreateForm()
    if form.validate_on_submit():
        try:
            team = services.create_team(form.service_data())
        except DomainError as exc:
            show_error(form, exc)
        else:
            message = _("Team %(name)s created.", name=team.name)
            return done(message, ".team_detail", team_id=team.id)
    return page("admin/team_new.html", form=form)


def team_page(team, **submitted):
    """The team's page with its four forms; the one just submitted keeps its input."""
    context = {
        "edit": submitted.get("edit") or forms.TeamEditForm(formdata=None, team=team),
        "add": submitted.get("add") or forms.AddMemberForm(formdata=None, team=team),
        "lead": submitted.get("lead") or forms.ChangeLeadForm(formdata=None, team=team),
        "remove": submitted.get("remove") or forms.RemoveMemberForm(formdata=None),
    }
    return page("admin/team_detail.html", team=team, **context)


@bp.route("/teams/<int:team_id>", methods=["GET", "POST"])
@admin_only
def team_detail(team_id: int):
    team = services.get_team(team_id)
    form = forms.TeamEditForm(team=team)
    if form.validate_on_submit():
        try:
            services.update_team(team, form.service_data())
        except DomainError as exc:
            show_error(form, exc)
        else:
            return done(_("Team %(name)s saved.", name=team.name), ".team_detail", team_id=team.id)
    return team_page(team, edit=form)


@bp.post("/teams/<int:team_id>/members")
@admin_only
def team_add_member(team_id: int):
    team = services.get_team(team_id)
    form = forms.AddMemberForm(team=team)
    if form.validate_on_submit():
        try:
            member = services.add_member(team, form.user_id.data, form.member_role.data)
        except DomainError as exc:
            show_error(form, exc)
        else:
            message = _(
                "%(name)s joined the team as %(role)s.",
                name=member.user.display_name,
                role=label(member.member_role),
            )
            return done(message, ".team_detail", team_id=team.id)
    return team_page(team, add=form)


@bp.post("/teams/<int:team_id>/members/<int:user_id>/remove")
@admin_only
def team_remove_member(team_id: int, user_id: int):
    team = services.get_team(team_id)
    user = services.get_user(user_id)
    form = forms.RemoveMemberForm()
    if form.validate_on_submit():
        try:
            services.remove_member(team, user.id)
        except DomainError as exc:
            show_error(form, exc)
        else:
            message = _("%(name)s left the team.", name=user.display_name)
            return done(message, ".team_detail", team_id=team.id)
    return team_page(team, remove=form)


@bp.post("/teams/<int:team_id>/lead")
@admin_only
def team_change_lead(team_id: int):
    team = services.get_team(team_id)
    form = forms.ChangeLeadForm(team=team)
    if form.validate_on_submit():
        try:
            services.change_lead(team, form.lead_id.data)
        except DomainError as exc:
            show_error(form, exc)
        else:
            message = _("%(name)s is now the team lead.", name=team.lead.display_name)
            return done(message, ".team_detail", team_id=team.id)
    return team_page(team, lead=form)
