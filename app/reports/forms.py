"""The form that generates a report on demand (the administrators' reports page)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField
from wtforms.validators import Optional

from app.reports.models import ReportKind

KIND_LABELS = {
    ReportKind.WEEKLY_CHECK.value: _l("Weekly check"),
    ReportKind.MONTHLY_REVIEW.value: _l("Monthly review"),
}
LOCALE_LABELS = {"zh": "中文", "en": "English"}
MAIL_LABELS = {
    "not_sent": _l("Not e-mailed"),
    "pending": _l("Waiting to be sent"),
    "sent": _l("Sent"),
    "failed": _l("Could not be sent"),
}


class GenerateForm(FlaskForm):
    """Field names are the service's, so its refusal lands next to the field it names."""

    kind = SelectField(
        _l("Report"),
        choices=[SelectChoice(key, label) for key, label in KIND_LABELS.items()],
        default=ReportKind.MONTHLY_REVIEW.value,
    )
    start = DateField(_l("First day"), validators=[Optional()])
    end = DateField(_l("Last day"), validators=[Optional()])
    locale = SelectField(
        _l("Language"),
        choices=[SelectChoice(key, label) for key, label in LOCALE_LABELS.items()],
        default="zh",
    )
