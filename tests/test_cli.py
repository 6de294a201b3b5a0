import sqlalchemy as sa

from app.accounts.models import Organisation, Role, User
from app.extensions import db
from app.residents.models import CaregiverLink, Resident


def counts():
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Organisation, User, Resident, CaregiverLink)
    )


def test_seed_demo_is_idempotent_and_prints_logins(cli, app):
    first = cli(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "dr.wang" in first.output
    assert "kangyang2026" in first.output
    after_first = counts()
    assert after_first[2] >= 5
    second = cli(args=["seed-demo"])
    assert second.exit_code == 0
    assert "nothing added" in second.output
    assert counts() == after_first


def test_seed_demo_is_refused_in_production(cli, app, monkeypatch):
    monkeypatch.setitem(app.config, "NAME", "production")
    result = cli(args=["seed-demo"])
    assert result.exit_code != 0
    assert "refused in production" in result.output
    assert counts() == (0, 0, 0, 0)


def test_create_user_reads_the_password_from_stdin(cli, app, client):
    result = cli(
        args=["create-user", "nurse.wu", "--role", "nurse", "--name", "吴护士"],
        input="a-long-password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.username == "nurse.wu"))
    assert user.role == Role.NURSE
    assert "a-long-password" not in user.password_hash
    token = client.post(
        "/api/v1/auth/token", json={"username": "nurse.wu", "password": "a-long-password"}
    )
    assert token.status_code == 201


def test_create_user_refuses_a_short_password_and_a_taken_name(cli, app, make_user):
    make_user(Role.NURSE, username="taken")
    short = cli(args=["create-user", "x.y.z", "--role", "nurse"], input="short\n")
    assert short.exit_code != 0
    assert "password" in short.output
    taken = cli(args=["create-user", "taken", "--role", "nurse"], input="long-enough-1\n")
    assert taken.exit_code != 0
    assert "username" in taken.output


def test_create_user_rejects_an_unknown_role(cli, app):
    result = cli(args=["create-user", "abc", "--role", "king"], input="x\n")
    assert result.exit_code != 0
