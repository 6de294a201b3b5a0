"""All migrations applied to an empty database give exactly the schema the models describe."""

import os
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db
from tests.conftest import IN_CI

POSTGRES_ADMIN_URL = os.environ.get(
    "POSTGRES_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def schema_differences(app) -> list:
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def migrate_and_compare(url: str) -> None:
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
    assert schema_differences(app) == []
    with app.app_context():
        downgrade(revision="base")
        upgrade()
    assert schema_differences(app) == []
    with app.app_context():
        db.engine.dispose()


@pytest.mark.own_app
def test_migrations_match_models_on_sqlite(tmp_path):
    migrate_and_compare(f"sqlite:///{tmp_path / 'migrations.db'}")


@pytest.fixture
def empty_postgres_database():
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"kangyang_migrations_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and unreachable: {exc.orig}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc.orig}")
    yield admin.url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.own_app
def test_migrations_match_models_on_postgresql(empty_postgres_database):
    migrate_and_compare(empty_postgres_database)


@pytest.mark.own_app
def test_upgrading_a_sqlite_database_that_holds_data(tmp_path):
    """SQLite rebuilds a table to alter it; rows in other tables pointing at it must not
    stop the upgrade (0004 alters organisations, which users and teams point at)."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'old.db'}")
    with app.app_context():
        upgrade(revision="0003_resident_imports")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO organisations (id, code, name, kind, active, created_at) "
                    "VALUES (1, 'C', '中心', 'community_centre', 1, '2026-01-01 00:00:00')"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO users (id, username, display_name, password_hash, role, "
                    "organisation_id, active, failed_logins, large_text, created_at) VALUES "
                    "(1, 'dr', '医生', 'x', 'doctor', 1, 1, 0, 0, '2026-01-01 00:00:00')"
                )
            )
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT organisation_id FROM users")).scalar() == 1
            assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
        db.engine.dispose()
