"""JSON API of the periodic reports (administrators): the list, one report with its figures,
its PDF and CSV, and a report generated on demand for any period. Thin: services.py does it.
"""

from flask import Response, url_for
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import fields, validate

from app.accounts.models import Role
from app.policy import roles_required
from app.reports import services
from app.reports.models import MailStatus, Report, ReportKind, ReportTrigger
from app.schemas_common import SelectPage, StrictSchema

blp = Blueprint("reports_api", __name__, url_prefix="/api/v1/reports", description="Reports")

admin = roles_required(Role.ADMIN)


class ReportQuerySchema(StrictSchema):
    kind = fields.Enum(ReportKind, by_value=True)


class ReportRequestSchema(StrictSchema):
    kind = fields.Enum(ReportKind, by_value=True, required=True)
    start = fields.Date(metadata={"description": "with end; default: the last full week or month"})
    end = fields.Date(metadata={"description": "with start; not after today"})
    locale = fields.String(
        load_default="zh", validate=validate.OneOf(sorted(services.LOCALES)), metadata={
            "description": "the report's language: zh (default) or en"
        }
    )  # fmt: skip


class ReportSchema(StrictSchema):
    id = fields.Integer()
    kind = fields.Enum(ReportKind, by_value=True)
    trigger = fields.Enum(ReportTrigger, by_value=True)
    area_kind = fields.String()
    area_id = fields.Integer()
    period_start = fields.Date()
    period_end = fields.Date()
    locale = fields.String()
    title = fields.String()
    generated_at = fields.AwareDateTime()
    generated_by_id = fields.Integer(allow_none=True, metadata={"description": "null: scheduled"})
    mail_status = fields.Enum(MailStatus, by_value=True)
    mail_attempts = fields.Integer()
    mail_next_attempt_at = fields.AwareDateTime(allow_none=True)
    mailed_at = fields.AwareDateTime(allow_none=True)
    mail_error = fields.String(allow_none=True)
    pdf_url = fields.Method("_pdf_url")
    csv_url = fields.Method("_csv_url")

    def _pdf_url(self, report: Report) -> str:
        return url_for("reports_api.ReportPdf", report_id=report.id)

    def _csv_url(self, report: Report) -> str:
        return url_for("reports_api.ReportCsv", report_id=report.id)


class ReportDetailSchema(ReportSchema):
    figures = fields.Dict(metadata={"description": "the figures the report shows (JSON)"})


def download(report: Report, extension: str) -> Response:
    if extension == "pdf":
        body, mimetype = report.pdf, "application/pdf"
    else:
        body, mimetype = report.csv.encode("utf-8"), "text/csv; charset=utf-8"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{services.filename(report, extension)}"'
    )
    return response


@blp.route("")
class Reports(MethodView):
    @admin
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, ReportSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """The reports kept, the newest first"""
        return services.search(args.get("kind"))

    @admin
    @blp.arguments(ReportRequestSchema)
    @blp.response(201, ReportDetailSchema)
    def post(self, data):
        """Generate a report now, for any period (both days, or neither: the last full week
        or last month)"""
        period = services.requested_period(data["kind"], data.get("start"), data.get("end"))
        return services.generate(
            data["kind"], period, ReportTrigger.ON_DEMAND, current_user, data["locale"]
        )


@blp.route("/<int:report_id>")
class ReportById(MethodView):
    @admin
    @blp.response(200, ReportDetailSchema)
    def get(self, report_id):
        """One report: when and how it was made, its mail, and its figures"""
        return services.get(report_id)


@blp.route("/<int:report_id>.pdf")
class ReportPdf(MethodView):
    @admin
    @blp.doc(responses={"200": {"description": "the PDF", "content": {"application/pdf": {}}}})
    def get(self, report_id):
        """The report as PDF"""
        return download(services.get(report_id), "pdf")


@blp.route("/<int:report_id>.csv")
class ReportCsv(MethodView):
    @admin
    @blp.doc(
        responses={"200": {"description": "the CSV (UTF-8, BOM)", "content": {"text/csv": {}}}}
    )
    def get(self, report_id):
        """The report as CSV: one row per figure"""
        return download(services.get(report_id), "csv")
