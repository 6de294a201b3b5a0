"""The referral figures page: a period and a breakdown in, the figures out.

Its own small blueprint (the referral pages live in routes.py), under the same /referrals
prefix. Same access as the API (GET /api/v1/stats/referrals): doctors and nurses count their
teams' referrals, specialists their department's, administrators everything with no reason
asked (aggregate figures are not a resident's record); anyone else 403.
"""

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField
from wtforms.validators import Optional

from app.accounts.models import Role
from app.policy import roles_required
from referral import stats

bp = Blueprint("referral_stats", __name__, url_prefix="/referrals", template_folder="templates")

staff = roles_required(Role.DOCTOR, Role.NURSE, Role.SPECIALIST, Role.ADMIN)
FORM_ERROR = 422

URGENCY_LABELS = {
    "routine": _l("Routine"),
    "urgent": _l("Urgent"),
    "emergency": _l("Emergency"),
}
ROW_HEADINGS = {
    "hospital": _l("Hospital"),
    "department": _l("Department"),
    "team": _l("Referring team"),
}


class StatsForm(FlaskForm):
    """The period and the breakdown (GET, no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    start = DateField(_l("First day of the period"), name="from", validators=[Optional()])
    end = DateField(_l("Last day of the period"), name="to", validators=[Optional()])
    by = SelectField(
        _l("Rows by"),
        choices=[SelectChoice(key, label) for key, label in ROW_HEADINGS.items()],
        default="hospital",
    )

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        start, end = stats.period(self.start.data, self.end.data)
        if start > end:
            self.start.errors.append(_l("The start of the period must not be after its end."))
            return False
        return True


def percent(share: float | None) -> str:
    """A share with one decimal, or a dash when there is none."""
    return "–" if share is None else f"{share * 100:.1f}%"


def number(value: float | None) -> str:
    """Hours or days with one decimal, or a dash when there is nothing to measure."""
    return "–" if value is None else f"{value:.1f}"


@bp.get("/stats", endpoint="stats")
@staff
def stats_page():
    form = StatsForm(request.args)
    context = {
        "form": form,
        "figures": None,
        "urgencies": URGENCY_LABELS,
        "headings": ROW_HEADINGS,
        "percent": percent,
        "number": number,
        "role": current_user.role,
    }
    if not form.validate():
        return render_template("referral/stats.html", **context), FORM_ERROR
    start, end = stats.period(form.start.data, form.end.data)
    form.start.data, form.end.data = start, end
    context["figures"] = stats.report(current_user, start, end, form.by.data)
    return render_template("referral/stats.html", **context)
