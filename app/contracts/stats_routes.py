"""The signing-rate figures page: a day and a breakdown in, the figures by group out, with
red/yellow/green cells that always carry the word and the numbers too (never colour only).

Same access as the API (GET /api/v1/stats/contracts): doctors and nurses see the
neighbourhoods their teams serve and their own teams; administrators see everything, with
no reason asked (aggregate figures are not a resident's record).
"""

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField
from wtforms.validators import Optional

from app.accounts.models import Role
from app.contracts import stats
from app.contracts.routes import bp
from app.policy import roles_required
from app.timeutil import local_today

team_or_admin = roles_required(Role.DOCTOR, Role.NURSE, Role.ADMIN)
FORM_ERROR = 422

GROUP_LABELS = {
    stats.ALL: _l("All residents"),
    stats.AGED_65: _l("Aged 65 and over"),
    stats.HYPERTENSION: _l("Hypertension"),
    stats.DIABETES: _l("Type 2 diabetes"),
    stats.LIVING_ALONE: _l("Living alone"),
    stats.DISABLED: _l("Disabled (wheelchair or bedridden)"),
}
# The word that goes with each colour, so colour is never the only signal.
COLOUR_WORDS = {
    stats.GREEN: _l("Good"),
    stats.YELLOW: _l("Near"),
    stats.RED: _l("Below"),
    None: _l("No data"),
}


class StatsForm(FlaskForm):
    """The day, the breakdown and the renewal period (GET, no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    on = DateField(_l("Day"), validators=[Optional()])
    by = SelectField(
        _l("Rows by"),
        choices=[
            SelectChoice("neighbourhood", _l("Neighbourhood committee")),
            SelectChoice("team", _l("Team")),
        ],
        default="neighbourhood",
    )
    renewal_from = DateField(_l("Renewals from"), validators=[Optional()])
    renewal_to = DateField(_l("Renewals to"), validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        end = self.renewal_to.data or self.on.data or local_today()
        if self.renewal_from.data and self.renewal_from.data > end:
            self.renewal_from.errors.append(
                _l("The start of the renewal period must not be after its end.")
            )
            return False
        return True


def _tenths(part: int, whole: int) -> int:
    """part / whole in tenths of a per cent, rounded half up (exact: integers only)."""
    return (part * 2000 + whole) // (2 * whole)


def _shown(tenths: int) -> str:
    return f"{tenths // 10}.{tenths % 10}%"


def percent(figure) -> str:
    """The rate with one decimal. A rate just under a threshold is cut, not rounded up, so
    69.96% (yellow) reads 69.9%, never 70.0%."""
    if figure.rate is None:
        return "–"
    tenths = _tenths(figure.signed, figure.registered)
    if stats.colour(tenths / 1000) != figure.colour:
        tenths = figure.signed * 1000 // figure.registered
    return _shown(tenths)


def renewal_percent(renewal) -> str:
    total = renewal.renewed + renewal.expired
    return _shown(_tenths(renewal.renewed, total)) if total else "–"


@bp.get("/stats", endpoint="stats")
@team_or_admin
def stats_page():
    form = StatsForm(request.args)
    context = {
        "form": form,
        "figures": None,
        "groups": GROUP_LABELS,
        "words": COLOUR_WORDS,
        "percent": percent,
        "renewal_percent": renewal_percent,
        "limited": current_user.role != Role.ADMIN,
    }
    if not form.validate():
        return render_template("contracts/stats.html", **context), FORM_ERROR
    on = form.on.data or local_today()
    form.on.data = on
    context["figures"] = stats.report(
        current_user, on, form.by.data, form.renewal_from.data, form.renewal_to.data
    )
    limits = context["figures"]["thresholds"]
    context["green_at"] = f"{limits['green'] * 100:g}%"
    context["yellow_at"] = f"{limits['yellow'] * 100:g}%"
    return render_template("contracts/stats.html", **context)
