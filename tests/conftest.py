"""Shared fixtures: one app per session, a database migrated once, and every test inside a
transaction that is rolled back (indico's way). Factory fixtures live in factories.py."""

import os
import re
import smtplib
import uuid

import pytest
import sqlalchemy as sa
from flask.globals import _cv_app
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session as FsaSession

from app import create_app
from app.extensions import db, limiter

pytest_plugins = ["tests.factories", "tests.smtp"]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def database_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", "sqlite://")


def reset_postgres(url: str) -> None:
    """An empty public schema, so the migrations build everything from nothing."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    except sa.exc.OperationalError as exc:
        # A missing service fails the run; it never quietly skips.
        pytest.exit(f"PostgreSQL at TEST_DATABASE_URL is unreachable: {exc.orig}", returncode=3)
    finally:
        engine.dispose()


class RequestScopedClient(FlaskClient):
    """Each request gets a fresh `g`, as it would in a server.

    The test holds an app context open (for its database transaction), and Flask reuses
    an open app context for requests, so without this `g` (the signed-in user, rate-limit
    state) would leak from one request into the next. The test and its requests share one
    session; committing first keeps a refused request's rollback from undoing the setup.
    """

    def open(self, *args, **kwargs):
        ctx = _cv_app.get(None)
        if ctx is None:
            return super().open(*args, **kwargs)
        db.session.commit()  # the test's setup is committed data, as a server would see it
        saved = ctx.g
        ctx.g = self.application.app_ctx_globals_class()
        try:
            return super().open(*args, **kwargs)
        finally:
            ctx.g = saved
            db.session.expire_all()  # the next read sees what the request wrote


@pytest.fixture(scope="session")
def app():
    url = database_url()
    if url.startswith("postgresql"):
        reset_postgres(url)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    app.test_client_class = RequestScopedClient
    with app.app_context():
        upgrade()  # the schema comes from the migrations, as in production
    return app


class _BoundSession(FsaSession):
    """Flask-SQLAlchemy's session always picks the engine; the tests need their connection."""

    def get_bind(self, *args, **kwargs):
        return self.bind


@pytest.fixture(autouse=True)
def db_session(app, request):
    """Each test runs in a transaction that is rolled back; commits become savepoints.

    A test marked `own_app` builds its own app and database and gets none of this.
    """
    if request.node.get_closest_marker("own_app"):
        yield None
        return
    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {
                "class_": _BoundSession,
                "bind": connection,
                "join_transaction_mode": "create_savepoint",
            }
        )
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            transaction.rollback()
            connection.close()


@pytest.fixture(autouse=True)
def _reset_rate_limits(app):
    with app.app_context():
        limiter.reset()


@pytest.fixture(autouse=True)
def _no_real_messages(monkeypatch, request):
    """Fail any test that would send a real message (e-mail now; SMS and push as they come).

    A test that talks to its own local SMTP server marks itself `allow_messages`.
    """
    if request.node.get_closest_marker("allow_messages"):
        return

    def refuse(*args, **kwargs):
        pytest.fail("this test tried to send a real e-mail")

    monkeypatch.setattr(smtplib.SMTP, "connect", refuse)
    monkeypatch.setattr(smtplib.SMTP_SSL, "connect", refuse)


def pytest_configure(config):
    config.addinivalue_line("markers", "allow_messages: may talk to a local test mail server")
    config.addinivalue_line("markers", "own_app: builds its own app; no shared test transaction")


@pytest.fixture
def client(app):
    return app.test_client()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def post_form(client, url: str, data: dict, page: str | None = None, **kwargs):
    """Submit a form as a browser would: load the page, take its CSRF token, post."""
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_from(html), **data}, **kwargs)


def sign_in(client, user, password: str = "correct-horse-9"):
    response = post_form(client, "/login", {"identifier": user.username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


@pytest.fixture
def signed_in(client):
    def _sign_in(user, password: str = "correct-horse-9"):
        sign_in(client, user, password)
        return client

    return _sign_in


@pytest.fixture
def api_token(client):
    def _token(user, password: str = "correct-horse-9") -> dict:
        response = client.post(
            "/api/v1/auth/token", json={"username": user.username, "password": password}
        )
        assert response.status_code == 201, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['access_token']}"}

    return _token


@pytest.fixture
def cli(app):
    """Runs `flask` commands inside the test's app context, after committing its setup."""
    runner = app.test_cli_runner()

    def invoke(*args, **kwargs):
        db.session.commit()
        return runner.invoke(*args, **kwargs)

    return invoke


@pytest.fixture
def fresh_database(tmp_path):
    """A database of its own, so two real connections can race (SQLite file or PostgreSQL)."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'race.db'}"
        return
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"kangyang_race_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield admin.url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
