import re

import pytest

from app.accounts.models import Role
from app.extensions import db
from tests.conftest import post_form


def test_api_docs_page_loads_its_assets_from_the_platform(client):
    html = client.get("/api/v1/docs").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, "the docs page references no assets"
    for asset in assets:
        assert asset.startswith("/vendor/swagger-ui/"), asset
        assert client.get(asset).status_code == 200


def test_openapi_document_describes_the_api(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/auth/token" in spec["paths"]
    assert "/api/v1/residents" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_language_switch_sticks_for_anonymous_visitors(client):
    assert "登录" in client.get("/login").get_data(as_text=True)
    response = post_form(
        client, "/preferences/language", {"lang": "en", "next": "/login"}, page="/login"
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="en"' in page
    assert "Sign in" in page


def test_language_choice_is_kept_on_the_account(client, make_user, signed_in):
    user = make_user(Role.NURSE)
    signed_in(user)
    post_form(client, "/preferences/language", {"lang": "en", "next": "/home"}, page="/home")
    db.session.refresh(user)
    assert user.locale == "en"
    client.delete_cookie("lang")
    assert "Workbench" in client.get("/home").get_data(as_text=True)


def test_unknown_language_is_refused(client):
    response = post_form(client, "/preferences/language", {"lang": "fr"}, page="/login")
    assert response.status_code == 400


def test_switches_do_not_redirect_off_site(client):
    response = post_form(
        client,
        "/preferences/large-text",
        {"large_text": "1", "next": "//evil.example/"},
        page="/login",
    )
    assert response.headers["Location"] == "/"


def test_large_text_mode(client):
    post_form(
        client, "/preferences/large-text", {"large_text": "1", "next": "/login"}, page="/login"
    )
    assert '<html lang="zh-CN" class="large-text">' in client.get("/login").get_data(as_text=True)


def test_not_found_page_is_in_chinese_and_api_answers_json(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404
    html = page.get_data(as_text=True)
    assert "未找到" in html
    assert "页面不存在" in html  # a reason in the reader's language, not werkzeug's English
    assert "requested URL" not in html
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404
    assert api.get_json()["code"] == 404


@pytest.mark.own_app
def test_healthz_reports_an_unreachable_database():
    from app import create_app

    # Nothing listens on port 9: a real connection failure, not a mock.
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="postgresql+psycopg://x@127.0.0.1:9/x")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unreachable"}
