"""Pages for importing a residents' register from CSV: upload, preview, confirm or discard.

Thin, like routes.py (on whose blueprint these views register): the rules are in imports.py.
A batch is seen only by whoever uploaded it and by administrators; anyone else gets 404.
"""

from flask import Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from app.errors import Conflict, InvalidInput
from app.residents import imports
from app.residents.import_csv import COLUMNS, MAX_ROWS, zh_labels
from app.residents.import_models import ImportStatus
from app.residents.models import ChronicCondition, Mobility
from app.residents.routes import FORM_ERROR, bp, team_or_admin

# What each column (or the file itself) is called when a reason is shown next to it.
COLUMN_LABELS = {
    "name": _l("Name"),
    "sex": _l("Sex"),
    "birth_date": _l("Birth date"),
    "national_id": _l("National ID number"),
    "phone": _l("Phone"),
    "address": _l("Address"),
    "neighbourhood_code": _l("Neighbourhood committee code"),
    "household_code": _l("Household code"),
    "living_alone": _l("Lives alone"),
    "mobility": _l("Mobility"),
    "conditions": _l("Chronic conditions"),
    "file": _l("File"),
    "status": _l("Status"),
}


def column_hints() -> dict[str, str]:
    """How to fill each column; the values are the Chinese labels the file takes."""
    mobility, conditions = zh_labels(Mobility), zh_labels(ChronicCondition)
    return {
        "sex": _("男 or 女 (male or female)"),
        "birth_date": _("YYYY-MM-DD, e.g. 1950-05-17; 1950/5/17 also works"),
        "national_id": _("18 characters; in Excel, format the column as text first"),
        "phone": _("An 11-digit mobile number or a landline like 021-58620000"),
        "neighbourhood_code": _("The committee's code, from the list below"),
        "household_code": _("The code of a household created already"),
        "living_alone": _("是 or 否 (yes or no); empty means no"),
        "mobility": _(
            "One of %(values)s; empty means %(default)s",
            values=mobility,
            default=zh_labels([Mobility.INDEPENDENT]),
        ),
        "conditions": _("Any of %(values)s, separated by 、 or ;", values=conditions),
    }


class UploadForm(FlaskForm):
    file = FileField(
        _l("CSV file"), validators=[FileRequired(message=_l("Choose the CSV file to upload."))]
    )


class BatchForm(FlaskForm):
    """The confirm and discard buttons: nothing but the CSRF token."""


@bp.get("/import/template.csv")
@team_or_admin
def import_template():
    body = imports.template_csv(current_user).encode("utf-8")
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=residents-import-template.csv"},
    )


@bp.route("/import", methods=["GET", "POST"])
@team_or_admin
def import_upload():
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            result = imports.upload(current_user, upload.filename or "", upload.read())
        except InvalidInput as exc:
            form.file.errors = [*form.file.errors, exc.translated()]
        else:
            return redirect(url_for(".import_preview", import_id=result.batch.id))
    status = FORM_ERROR if form.is_submitted() else 200
    return render_template(
        "residents/import_upload.html",
        form=form,
        columns=COLUMNS,
        labels=COLUMN_LABELS,
        hints=column_hints(),
        max_rows=MAX_ROWS,
        neighbourhoods=imports.served_neighbourhoods(current_user),
    ), status


def _preview_page(preview, error: str | None = None, status: int = 200):
    return render_template(
        "residents/import_preview.html",
        batch=preview.batch,
        rows=preview.rows,
        bad_rows=preview.bad_rows,
        labels=COLUMN_LABELS,
        previewed=ImportStatus.PREVIEWED,
        imported=ImportStatus.IMPORTED,
        error=error,
    ), status


@bp.get("/import/<int:import_id>")
@team_or_admin
def import_preview(import_id):
    batch = imports.get_batch(current_user, import_id)
    return _preview_page(imports.preview(current_user, batch))


def _expired(batch):
    message = _("The page had expired. Please check the file and press the button again.")
    return _preview_page(imports.preview(current_user, batch), message, FORM_ERROR)


@bp.post("/import/<int:import_id>/confirm")
@team_or_admin
def import_confirm(import_id):
    batch = imports.get_batch(current_user, import_id)
    if not BatchForm().validate_on_submit():
        return _expired(batch)
    try:
        imports.confirm(current_user, batch)
    except imports.ImportHasErrors as exc:
        return _preview_page(exc.preview, exc.translated(), exc.status)
    except Conflict as exc:
        return _preview_page(imports.preview(current_user, batch), exc.translated(), exc.status)
    return redirect(url_for(".import_preview", import_id=batch.id))


@bp.post("/import/<int:import_id>/discard")
@team_or_admin
def import_discard(import_id):
    batch = imports.get_batch(current_user, import_id)
    if not BatchForm().validate_on_submit():
        return _expired(batch)
    try:
        imports.discard(current_user, batch)
    except Conflict as exc:
        return _preview_page(imports.preview(current_user, batch), exc.translated(), exc.status)
    flash(_("The file is discarded; nothing was imported."), "info")
    return redirect(url_for(".import_upload"))
