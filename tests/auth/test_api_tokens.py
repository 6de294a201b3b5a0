from datetime import timedelta

from app.accounts.models import ApiToken, Role
from app.extensions import db
from app.timeutil import utcnow


def test_token_shape_and_use(client, make_user):
    user = make_user(Role.NURSE, username="nurse.x")
    response = client.post(
        "/api/v1/auth/token", json={"username": "nurse.x", "password": "correct-horse-9"}
    )
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_at"}
    assert body["token_type"] == "Bearer"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.get_json()["id"] == user.id
    assert "password" not in me.get_json()
    assert "password_hash" not in me.get_json()


def test_token_is_stored_hashed(client, make_user):
    make_user(Role.NURSE, username="nurse.y")
    token = client.post(
        "/api/v1/auth/token", json={"username": "nurse.y", "password": "correct-horse-9"}
    ).get_json()["access_token"]
    assert db.session.query(ApiToken).filter_by(digest=token).count() == 0
    assert db.session.query(ApiToken).count() == 1


def test_wrong_credentials_answer_401(client, make_user):
    make_user(Role.NURSE, username="nurse.z")
    response = client.post(
        "/api/v1/auth/token", json={"username": "nurse.z", "password": "bad-one-1"}
    )
    assert response.status_code == 401
    assert response.get_json()["message"] == "wrong username or password"


def test_missing_and_unknown_fields_are_named(client):
    response = client.post("/api/v1/auth/token", json={"user": "x"})
    assert response.status_code == 422
    errors = response.get_json()["errors"]["json"]
    assert errors["user"] == ["Unknown field."]
    assert "username" in errors
    assert "password" in errors


def test_expired_or_unknown_token_is_refused(client, make_user, api_token):
    user = make_user(Role.NURSE)
    headers = api_token(user)
    db.session.query(ApiToken).update({ApiToken.expires_at: utcnow() - timedelta(minutes=1)})
    db.session.flush()
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_token_of_a_disabled_account_stops_working(client, make_user, api_token):
    user = make_user(Role.NURSE)
    headers = api_token(user)
    user.active = False
    db.session.flush()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_session_callers_of_the_api_need_the_csrf_token(client, make_user, signed_in):
    admin = make_user(Role.ADMIN)
    signed_in(admin)
    assert client.get("/api/v1/me").status_code == 200  # reading with the session is fine
    response = client.post(
        "/api/v1/organisations", json={"code": "X1", "name": "X", "kind": "community_centre"}
    )
    assert response.status_code == 400
    assert "CSRF" in response.get_json()["message"]


def test_oversized_body_is_413(client, make_user, api_token, app):
    headers = api_token(make_user(Role.ADMIN))
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post(
        "/api/v1/organisations", data=big, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.get_json()["code"] == 413
