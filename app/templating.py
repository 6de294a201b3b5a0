"""Jinja filters and the values every page needs."""

from datetime import date, datetime

from flask import Flask, request
from flask_babel import format_date, format_datetime, get_locale
from flask_login import current_user

from app.i18n import large_text_enabled
from app.labels import label
from app.timeutil import to_local


def localtime(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    if value is None:
        return ""
    return format_datetime(to_local(value), fmt, rebase=False)


def localdate(value: date | None) -> str:
    return format_date(value, "yyyy-MM-dd") if value else ""


def register(app: Flask) -> None:
    app.add_template_filter(localtime)
    app.add_template_filter(localdate)
    app.add_template_filter(label)

    @app.context_processor
    def page_context():
        locale = str(get_locale())
        return {
            "current_locale": locale,
            "html_lang": "zh-CN" if locale.startswith("zh") else "en",
            "large_text": large_text_enabled(),
            "current_user": current_user,
            "request_path": request.full_path.rstrip("?"),
        }
