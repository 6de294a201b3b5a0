"""The administrators' reports page: the reports kept (with their mail), the form that makes
one on demand, and the downloads. Thin: services.py generates; a refusal of the period comes
back as the form with 422 and the message next to the field it names."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.models import Role
from app.errors import DomainError
from app.pagination import audited_page
from app.policy import roles_required
from app.reports import forms, services
from app.reports.api import download
from app.reports.models import ReportKind, ReportTrigger

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")
admin_only = roles_required(Role.ADMIN)


def _list(form: forms.GenerateForm, status: int = 200):
    kind = request.args.get("kind") or None
    if kind not in (None, *forms.KIND_LABELS):
        kind = None
    results = audited_page(
        services.search(ReportKind(kind) if kind else None),
        request.args.get("page", 1, type=int),
        lambda _report: None,  # figures only: nothing about a resident is read
    )
    context = {
        "form": form,
        "results": results,
        "kind": kind,
        "kinds": forms.KIND_LABELS,
        "mail_labels": forms.MAIL_LABELS,
    }
    return render_template("reports/index.html", **context), status


@bp.get("", endpoint="index")
@admin_only
def index():
    return _list(forms.GenerateForm())


@bp.post("", endpoint="generate")
@admin_only
def generate():
    form = forms.GenerateForm()
    if not form.validate():
        return _list(form, 422)
    kind = ReportKind(form.kind.data)
    try:
        period = services.requested_period(kind, form.start.data, form.end.data)
        report = services.generate(
            kind, period, ReportTrigger.ON_DEMAND, current_user, form.locale.data
        )
    except DomainError as exc:
        field = form[exc.field] if exc.field in ("start", "end", "locale") else form.kind
        field.errors = [*field.errors, exc.translated()]
        return _list(form, 422)
    flash(_("The report is ready: %(title)s.", title=report.title), "info")
    return redirect(url_for("reports.index"), 303)


@bp.get("/<int:report_id>.pdf", endpoint="pdf")
@admin_only
def pdf(report_id: int):
    return download(services.get(report_id), "pdf")


@bp.get("/<int:report_id>.csv", endpoint="csv")
@admin_only
def csv(report_id: int):
    return download(services.get(report_id), "csv")
