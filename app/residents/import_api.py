"""JSON API: import a residents' register from a CSV file (upload -> preview, then confirm).

The upload answers with the preview: the batch, its counts and every reason a row is refused
({row, field, reason}; the heading is row 1). Confirming imports every row or none: 409 with
the reasons while any row is refused, or when the batch is imported or discarded already.
"""

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import Schema, fields

from app.accounts.models import Role
from app.policy import roles_required
from app.residents import imports
from app.residents.import_models import ImportStatus
from app.schemas_common import StrictSchema

blp = Blueprint(
    "residents_import_api",
    __name__,
    url_prefix="/api/v1",
    description="Residents' register: import from a CSV file",
)

team_or_admin = roles_required(Role.DOCTOR, Role.NURSE, Role.ADMIN)


class UploadSchema(Schema):
    file = Upload(
        required=True,
        metadata={"description": "CSV, UTF-8 (a byte-order mark is fine); see the template"},
    )


class RowErrorSchema(StrictSchema):
    row = fields.Integer(metadata={"description": "as a spreadsheet numbers it: heading is 1"})
    field = fields.String(allow_none=True)
    reason = fields.String()


class ImportPreviewSchema(StrictSchema):
    id = fields.Integer()
    filename = fields.String()
    status = fields.Enum(ImportStatus, by_value=True)
    row_count = fields.Integer()
    error_count = fields.Integer(metadata={"description": "rows with at least one error"})
    row_errors = fields.List(fields.Nested(RowErrorSchema))
    created_at = fields.AwareDateTime()


class ImportedSchema(StrictSchema):
    id = fields.Integer()
    status = fields.Enum(ImportStatus, by_value=True)
    imported = fields.Integer(metadata={"description": "residents added to the register"})
    imported_at = fields.AwareDateTime()


@blp.route("/residents/imports")
class ResidentImports(MethodView):
    @team_or_admin
    @blp.arguments(UploadSchema, location="files")
    @blp.response(201, ImportPreviewSchema)
    def post(self, args):
        """Upload a CSV file and check every row; nothing is imported yet"""
        upload = args["file"]
        preview = imports.upload(current_user, upload.filename or "", upload.read())
        batch = preview.batch
        return {
            "id": batch.id,
            "filename": batch.filename,
            "status": batch.status,
            "row_count": batch.row_count,
            "error_count": len(preview.bad_rows),
            "row_errors": preview.problems(),
            "created_at": batch.created_at,
        }


@blp.route("/residents/imports/<int:import_id>/confirm")
class ConfirmResidentImport(MethodView):
    @team_or_admin
    @blp.response(201, ImportedSchema)
    @blp.alt_response(409, description="a row is refused, or the batch is not open any more")
    def post(self, import_id):
        """Import every row of an uploaded file, or none"""
        batch = imports.get_batch(current_user, import_id)
        count = imports.confirm(current_user, batch)
        return {
            "id": batch.id,
            "status": batch.status,
            "imported": count,
            "imported_at": batch.imported_at,
        }
