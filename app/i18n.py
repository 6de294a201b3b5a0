"""Language and time-zone choice: Chinese by default, English on request, and it sticks."""

from flask import current_app, request
from flask_login import current_user

LANG_COOKIE = "lang"
LARGE_TEXT_COOKIE = "large_text"


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in languages:
        return cookie
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["DISPLAY_TIMEZONE"]


def large_text_enabled() -> bool:
    if current_user and current_user.is_authenticated and current_user.large_text:
        return True
    return request.cookies.get(LARGE_TEXT_COOKIE) == "1"
