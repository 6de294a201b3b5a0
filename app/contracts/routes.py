"""Pages for family-doctor contracts. The views live in page_routes (residents' and the
team's pages) and stats_routes (the signing-rate figures), registered on this blueprint."""

from flask import Blueprint

bp = Blueprint("contracts", __name__, url_prefix="/contracts", template_folder="templates")

from app.contracts import page_routes, stats_routes, team_routes  # noqa: E402, F401
