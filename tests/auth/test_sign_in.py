from datetime import timedelta

import pytest

from app.accounts.models import Role
from app.audit.models import Event
from app.extensions import db
from app.timeutil import utcnow
from tests.conftest import post_form, sign_in


@pytest.fixture
def doctor(make_user):
    return make_user(Role.DOCTOR, username="dr.test", phone="13911112222", display_name="测试医生")


def test_sign_in_by_username_lands_on_the_home_page(client, doctor):
    response = sign_in(client, doctor)
    assert response.headers["Location"] == "/home"
    page = client.get("/home").get_data(as_text=True)
    assert "测试医生" in page
    assert "工作台" in page


def test_sign_in_by_phone(client, doctor):
    response = post_form(
        client, "/login", {"identifier": "13911112222", "password": "correct-horse-9"}
    )
    assert response.status_code == 302


def test_wrong_password_says_so_without_naming_which_part(client, doctor):
    response = post_form(client, "/login", {"identifier": "dr.test", "password": "nope-nope"})
    assert response.status_code == 401
    assert "用户名、手机号或密码错误" in response.get_data(as_text=True)
    unknown = post_form(client, "/login", {"identifier": "nobody", "password": "nope-nope"})
    assert unknown.status_code == 401
    assert "用户名、手机号或密码错误" in unknown.get_data(as_text=True)


def test_account_locks_after_repeated_failures_even_for_the_right_password(client, doctor, app):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        post_form(client, "/login", {"identifier": "dr.test", "password": "wrong-password"})
    response = post_form(client, "/login", {"identifier": "dr.test", "password": "correct-horse-9"})
    assert response.status_code == 401
    assert "账号已暂时锁定" in response.get_data(as_text=True)
    assert db.session.get(type(doctor), doctor.id).locked_until > utcnow()
    assert db.session.query(Event).filter_by(name="user.locked", entity_id=doctor.id).count() == 1


def test_lock_expires(client, doctor):
    doctor.locked_until = utcnow() - timedelta(seconds=1)
    db.session.flush()
    assert sign_in(client, doctor).status_code == 302


def test_inactive_account_cannot_sign_in(client, doctor):
    doctor.active = False
    db.session.flush()
    response = post_form(client, "/login", {"identifier": "dr.test", "password": "correct-horse-9"})
    assert response.status_code == 401


def test_sign_in_is_throttled(client, doctor, app):
    limit = int(app.config["LOGIN_RATE_LIMIT"].split()[0])
    html = client.get("/login").get_data(as_text=True)
    from tests.conftest import csrf_from

    token = csrf_from(html)
    codes = [
        client.post(
            "/login", data={"csrf_token": token, "identifier": "x", "password": "y"}
        ).status_code
        for _ in range(limit + 1)
    ]
    assert codes[-1] == 429
    assert 429 not in codes[:limit]


def test_form_without_csrf_token_is_refused(client, doctor):
    response = client.post("/login", data={"identifier": "dr.test", "password": "correct-horse-9"})
    assert response.status_code == 400
    assert client.get("/home").status_code == 302  # still signed out


def test_session_cookie_is_httponly_and_samesite(client, doctor):
    response = sign_in(client, doctor)
    cookie = next(v for k, v in response.headers.items() if k == "Set-Cookie" and "session=" in v)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_sign_out(client, doctor):
    sign_in(client, doctor)
    response = post_form(client, "/logout", {}, page="/home")
    assert response.status_code == 302
    assert client.get("/home").status_code == 302
    assert "/login" in client.get("/home").headers["Location"]


def test_pages_need_sign_in(client):
    response = client.get("/home")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_next_parameter_is_local_only(client, doctor):
    html = client.get("/login?next=//evil.example/").get_data(as_text=True)
    from tests.conftest import csrf_from

    response = client.post(
        "/login",
        data={
            "csrf_token": csrf_from(html),
            "identifier": "dr.test",
            "password": "correct-horse-9",
            "next": "//evil.example/",
        },
    )
    assert response.headers["Location"] == "/home"
