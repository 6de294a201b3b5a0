"""JSON API: organisations, users and family-doctor teams. Writes are the administrator's."""

from flask.views import MethodView
from flask_login import current_user, login_required
from flask_smorest import Blueprint

from app.accounts import services
from app.accounts.models import STAFF_ROLES, Role
from app.accounts.schemas import (
    OrganisationQuerySchema,
    OrganisationSchema,
    OrganisationUpdateSchema,
    TeamDumpSchema,
    TeamLeadSchema,
    TeamMemberSchema,
    TeamSchema,
    TeamUpdateSchema,
    UserQuerySchema,
    UserSchema,
    UserUpdateSchema,
)
from app.policy import roles_required

blp = Blueprint(
    "accounts_api", __name__, url_prefix="/api/v1", description="Organisations, users, teams"
)

admin_only = roles_required(Role.ADMIN)
staff_only = roles_required(*STAFF_ROLES)


@blp.route("/me")
class Me(MethodView):
    decorators = [login_required]

    @blp.response(200, UserSchema)
    def get(self):
        """The signed-in user"""
        return current_user


@blp.route("/organisations")
class Organisations(MethodView):
    @staff_only
    @blp.arguments(OrganisationQuerySchema, location="query")
    @blp.response(200, OrganisationSchema(many=True))
    def get(self, args):
        """Organisations, departments and neighbourhood committees"""
        return services.organisations(kind=args.get("kind"))

    @admin_only
    @blp.arguments(OrganisationSchema)
    @blp.response(201, OrganisationSchema)
    def post(self, data):
        """Create an organisation"""
        return services.create_organisation(data)


@blp.route("/organisations/<int:org_id>")
class OrganisationById(MethodView):
    @staff_only
    @blp.response(200, OrganisationSchema)
    def get(self, org_id):
        return services.get_organisation(org_id)

    @admin_only
    @blp.arguments(OrganisationUpdateSchema)
    @blp.response(200, OrganisationSchema)
    def patch(self, data, org_id):
        return services.update_organisation(services.get_organisation(org_id), data)


@blp.route("/users")
class Users(MethodView):
    decorators = [admin_only]

    @blp.arguments(UserQuerySchema, location="query")
    @blp.response(200, UserSchema(many=True))
    def get(self, args):
        """User accounts"""
        return services.users(role=args.get("role"), search=args.get("q"))

    @blp.arguments(UserSchema)
    @blp.response(201, UserSchema)
    def post(self, data):
        """Create a user account"""
        return services.create_user(data)


@blp.route("/users/<int:user_id>")
class UserById(MethodView):
    decorators = [admin_only]

    @blp.response(200, UserSchema)
    def get(self, user_id):
        return services.get_user(user_id)

    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    def patch(self, data, user_id):
        """Change an account; `active: false` disables it"""
        return services.update_user(services.get_user(user_id), data)


@blp.route("/teams")
class Teams(MethodView):
    @staff_only
    @blp.response(200, TeamDumpSchema(many=True))
    def get(self):
        """Family-doctor teams"""
        return services.teams()

    @admin_only
    @blp.arguments(TeamSchema)
    @blp.response(201, TeamDumpSchema)
    def post(self, data):
        """Create a team with its lead doctor"""
        return services.create_team(data)


@blp.route("/teams/<int:team_id>")
class TeamById(MethodView):
    @staff_only
    @blp.response(200, TeamDumpSchema)
    def get(self, team_id):
        return services.get_team(team_id)

    @admin_only
    @blp.arguments(TeamUpdateSchema)
    @blp.response(200, TeamDumpSchema)
    def patch(self, data, team_id):
        return services.update_team(services.get_team(team_id), data)


@blp.route("/teams/<int:team_id>/members")
class TeamMembers(MethodView):
    decorators = [admin_only]

    @blp.arguments(TeamMemberSchema)
    @blp.response(201, TeamDumpSchema)
    def post(self, data, team_id):
        """Add a member (doctor, nurse or public-health doctor)"""
        team = services.get_team(team_id)
        services.add_member(team, data["user_id"], data["member_role"])
        return team


@blp.route("/teams/<int:team_id>/members/<int:user_id>")
class TeamMemberById(MethodView):
    decorators = [admin_only]

    @blp.response(204)
    def delete(self, team_id, user_id):
        services.remove_member(services.get_team(team_id), user_id)


@blp.route("/teams/<int:team_id>/lead")
class TeamLead(MethodView):
    decorators = [admin_only]

    @blp.arguments(TeamLeadSchema)
    @blp.response(200, TeamDumpSchema)
    def put(self, data, team_id):
        """Make another doctor the team lead"""
        return services.change_lead(services.get_team(team_id), data["user_id"])
