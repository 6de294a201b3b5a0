"""The KPI pages: the board of an area over a period (/kpis), the residents behind a figure
(/kpis/<key>/residents) and the town's targets and weights (/kpis/settings).

Thin: app/kpis/board.py computes (the same board() the API and the reports read),
drilldown.py lists, settings.py decides, areas.py says who may look at which area. A
refusal (a bad period, an area not yours) is a DomainError: the period's mistakes come back
next to the date fields, the rest as the error page with the service's reason and status.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.accounts.models import Role
from app.errors import N_, DomainError, InvalidInput, NotFound
from app.kpis import board, charts, drilldown, labels, registry, settings
from app.kpis.areas import (
    AreaKind,
    Period,
    areas,
    default_area,
    period_from,
    resolve_area,
    scope_for,
)
from app.kpis.forms import PeriodForm, settings_form
from app.policy import roles_required
from app.residents.forms import ReasonForm
from app.residents.routes import given_reason
from app.timeutil import local_today

bp = Blueprint(
    "kpi_pages",
    __name__,
    url_prefix="/kpis",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

staff = roles_required(Role.ADMIN, Role.DOCTOR, Role.NURSE)
admin_only = roles_required(Role.ADMIN)
FORM_ERROR = 422

AREA_KINDS = {
    AreaKind.NEIGHBOURHOOD: _l("Neighbourhood committee"),
    AreaKind.TEAM: _l("Team"),
}
WHOLE_TOWN = _l("The whole town")


# --- what a request asks for -------------------------------------------------------------------


def _area_asked(values) -> tuple[AreaKind, int | None]:
    """The area in the query (area, area_id), else the user's own board."""
    raw = values.get("area")
    if not raw:
        return default_area(current_user)
    try:
        kind = AreaKind(raw)
    except ValueError:
        raise InvalidInput(N_("the area is the town, a neighbourhood or a team"), "area") from None
    return kind, values.get("area_id", type=int)


def _period_asked(values) -> Period:
    """The period of a link (the drill-down): both dates optional, written YYYY-MM-DD."""
    form = PeriodForm(values)
    if not form.validate():
        name = next(iter(form.errors))
        raise InvalidInput(N_("a date is written YYYY-MM-DD"), name)
    return period_from(form.start.data, form.end.data)


def area_args(area: dict, period: Period) -> dict:
    """The query arguments that name an area and a period (every link on these pages)."""
    args = {"area": area["kind"]}
    if area["kind"] != AreaKind.TOWN.value:
        args["area_id"] = area["id"]
    return args | {"start": period.start.isoformat(), "end": period.end.isoformat()}


def area_title(area: dict) -> str:
    if area["kind"] == AreaKind.TOWN.value:
        return str(WHOLE_TOWN)
    return _("%(kind)s: %(name)s", kind=AREA_KINDS[AreaKind(area["kind"])], name=area["name"])


def quick_periods(today: date) -> list[tuple[str, date, date]]:
    """This month, last month, this quarter and this year (each up to today)."""
    month = today.replace(day=1)
    last_month_end = month - timedelta(days=1)
    quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return [
        (_("This month"), month, today),
        (_("Last month"), last_month_end.replace(day=1), last_month_end),
        (_("This quarter"), quarter, today),
        (_("This year"), date(today.year, 1, 1), today),
    ]


def my_areas(current: dict) -> list[dict]:
    """Links to the other areas the user may look at: the town for administrators (the
    town's table lists the rest), a doctor's or nurse's teams and committees."""
    scope = scope_for(current_user)
    found = []
    if scope.town:
        found.append({"kind": AreaKind.TOWN.value, "id": 0, "name": ""})
    else:
        mine = ((AreaKind.TEAM, scope.team_ids), (AreaKind.NEIGHBOURHOOD, scope.neighbourhood_ids))
        for kind, ids in mine:
            found += [area.as_dict() for area in areas(kind, ids)] if ids else []
    return [a for a in found if (a["kind"], a["id"]) != (current["kind"], current["id"])]


# --- the board ---------------------------------------------------------------------------------


def card(figure: dict, args: dict) -> dict:
    """A figure as the board's card shows it: words beside every number and colour."""
    key = figure["key"]
    groups = (figure.get("detail") or {}).get("groups") or {}
    return {
        **figure,
        "label": labels.kpi_label(key),
        "description": labels.kpi_description(key),
        "text": labels.figure_text(figure),
        "fraction": labels.fraction_text(figure),
        "word": labels.colour_word(figure),
        "css": labels.colour_class(figure),
        "target_text": labels.setting_text(figure["unit"], figure["target"]),
        "groups": [
            {
                "label": title,
                "text": labels.value_text(registry.SHARE, groups[name]["rate"]),
                "signed": groups[name]["signed"],
                "registered": groups[name]["registered"],
            }
            for name, title in labels.GROUP_LABELS.items()
            if name in groups
        ],
        "drill": url_for("kpi_pages.residents", key=key, **args),
    }


def score_rows(score: dict) -> list[dict]:
    return [
        {
            "label": labels.kpi_label(row["key"]),
            "weight": row["weight"],
            "target": labels.setting_text(registry.get(row["key"]).unit, row["target"]),
            "value": labels.value_text(registry.get(row["key"]).unit, row["value"]),
            "points": labels.points_text(row["points"]),
        }
        for row in score["rows"]
    ]


def area_rows(rows: list[dict], period: Period) -> list[dict]:
    """The town's table: each committee and team, with a cell per KPI."""
    return [
        {
            "title": area_title(row),
            "url": url_for("kpi_pages.board", **area_args(row, period)),
            "cells": [
                {
                    "text": labels.figure_text(f),
                    "word": labels.colour_word(f),
                    "css": labels.colour_class(f),
                }
                for f in row["figures"]
            ],
        }
        for row in rows
    ]


def trend_charts(points: list[dict], current: dict) -> list[dict]:
    return [
        {
            "label": labels.kpi_label(kpi.key),
            "svg": charts.svg(
                charts.trend_drawing(points, kpi, current[kpi.key]),
                labels.trend_text(kpi.key, points),
            ),
        }
        for kpi in registry.all_kpis()
    ]


def _board_page(form: PeriodForm, status: int = 200, data: dict | None = None):
    today = local_today()
    context = {"form": form, "data": None, "kpis": registry.all_kpis(), "labels": labels}
    if data is not None:
        period = Period(data["period"]["start"], data["period"]["end"])
        args = area_args(data["area"], period)
        context |= {
            "data": data,
            "title": area_title(data["area"]),
            "args": args,
            "cards": [card(figure, args) for figure in data["figures"]],
            "score": score_rows(data["score"]),
            "rows": area_rows(data["rows"], period),
            "charts": trend_charts(data["trend"], settings.current()),
            "others": [
                {"title": area_title(a), "url": url_for("kpi_pages.board", **area_args(a, period))}
                for a in my_areas(data["area"])
            ],
            "quick": [
                {
                    "label": label,
                    "url": url_for(
                        "kpi_pages.board",
                        **(args | {"start": start.isoformat(), "end": end.isoformat()}),
                    ),
                }
                for label, start, end in quick_periods(today)
            ],
        }
    return render_template("kpis/board.html", **context), status


@bp.get("", endpoint="board")
@staff
def board_page():
    kind, area_id = _area_asked(request.args)
    form = PeriodForm(request.args)
    if not form.validate():
        return _board_page(form, FORM_ERROR)
    try:
        period = period_from(form.start.data, form.end.data)
    except InvalidInput as exc:
        form[exc.field].errors = [*form[exc.field].errors, exc.translated()]
        return _board_page(form, FORM_ERROR)
    data = board.board(current_user, kind, area_id, period)
    form.start.data, form.end.data = period.start, period.end
    return _board_page(form, data=data)


# --- the residents behind a figure -------------------------------------------------------------


def _met_asked(values) -> bool | None:
    return {"1": True, "true": True, "0": False, "false": False}.get(values.get("met", ""))


@bp.get("/<key>/residents", endpoint="residents")
@staff
def residents_page(key):
    kpi = registry.get(key)
    if kpi is None:
        raise NotFound(N_("no such figure"))
    kind, area_id = _area_asked(request.args)
    period = _period_asked(request.args)
    area = resolve_area(current_user, kind, area_id).as_dict()
    reason = given_reason(request.args)
    if current_user.role == Role.ADMIN and not reason:
        form = ReasonForm(request.args)
        if "reason" in request.args:
            form.validate()
        keep = {k: v for k, v in request.args.items() if k != "reason"}
        return render_template("kpis/reason.html", form=form, keep=keep, action=request.path)
    met = _met_asked(request.args)
    number = request.args.get("page", 1, type=int)
    results = drilldown.page(current_user, key, kind, area_id, period, met, number, reason)
    args = area_args(area, period) | ({"reason": reason} if reason else {})
    filters = [
        (_("All"), None),
        (_("Counted"), True),
        (_("Not counted"), False),
    ]
    return render_template(
        "kpis/residents.html",
        kpi=kpi,
        label=labels.kpi_label(key),
        title=area_title(area),
        period=period,
        results=results,
        met=met,
        filters=[
            {
                "label": text,
                "url": url_for(
                    "kpi_pages.residents",
                    key=key,
                    **args,
                    **({} if value is None else {"met": int(value)}),
                ),
                "current": value == met,
            }
            for text, value in filters
        ],
        pager_args=args | ({} if met is None else {"met": int(met)}) | {"key": key},
        board_url=url_for("kpi_pages.board", **area_args(area, period)),
        reason=reason,
        labels=labels,
    )


# --- the town's targets and weights ------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"], endpoint="settings")
@admin_only
def settings_page():
    current = settings.current()
    context = {"current_total": sum(s.weight for s in current.values()), "labels": labels}
    if request.method == "GET":
        form = settings_form(current)
        return render_template("kpis/settings.html", form=form, **context)
    form = settings_form(current, request.form)
    if not form.validate():
        return render_template("kpis/settings.html", form=form, **context), FORM_ERROR
    changes = form.changes(current)
    if not changes:
        flash(_("Nothing changed."), "info")
        return redirect(url_for("kpi_pages.settings"), 303)
    try:
        settings.update(changes, current_user, form.reason.data or None)
    except DomainError as exc:
        context["total_error"] = form.show_error(exc)
        return render_template("kpis/settings.html", form=form, **context), FORM_ERROR
    flash(_("The targets and weights are saved."), "info")
    return redirect(url_for("kpi_pages.settings"), 303)
