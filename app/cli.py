"""Command-line entry points: `flask --app wsgi <command>`."""

import sys

import click
from flask import Flask, current_app
from werkzeug.serving import run_simple

from app.accounts.models import Role
from app.errors import DomainError
from app.extensions import db
from wearables.mqtt_bridge import mqtt_bridge_command
from wearables.simulator import simulate_wearables


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\n")


def register(app: Flask) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_user)
    app.cli.add_command(run_scheduler)
    app.cli.add_command(serve)
    app.cli.add_command(mqtt_bridge_command)
    app.cli.add_command(simulate_wearables)


@click.command("seed-demo")
def seed_demo():
    """Load the demo data once (a second run adds nothing). Refused in production."""
    from app import demo

    if current_app.config["NAME"] == "production":
        raise click.ClickException("seed-demo is refused in production")
    created = demo.seed()
    db.session.commit()
    click.echo("Demo data loaded." if created else "Demo data is already there; nothing added.")
    click.echo(demo.logins_text())


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(Role.values()), required=True)
@click.option("--name", "display_name", help="Name shown on pages (defaults to USERNAME).")
@click.option("--phone")
@click.option("--organisation-code", help="Code of the user's organisation or department.")
def create_user(username, role, display_name, phone, organisation_code):
    """Create an account; the password is read from standard input."""
    import sqlalchemy as sa

    from app.accounts import services
    from app.accounts.models import Organisation

    organisation_id = None
    if organisation_code:
        org = db.session.scalar(
            sa.select(Organisation).where(Organisation.code == organisation_code)
        )
        if org is None:
            raise click.ClickException(f"no organisation with code {organisation_code!r}")
        organisation_id = org.id
    data = {
        "username": username,
        "role": Role(role),
        "display_name": display_name or username,
        "phone": phone,
        "organisation_id": organisation_id,
        "password": _read_password(),
    }
    try:
        user = services.create_user(data)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(f"{exc.field or 'error'}: {exc.message}") from None
    db.session.commit()
    click.echo(f"Created user {user.username} (id {user.id}, role {user.role.value}).")


@click.command("scheduler")
def run_scheduler():
    """Run the scheduler alone, in the foreground (production: exactly one of these)."""
    from app import scheduler

    sched = scheduler.build(current_app._get_current_object(), blocking=True)
    click.echo(f"Scheduler running with jobs: {', '.join(j.id for j in sched.get_jobs())}")
    sched.start()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
def serve(host, port):
    """Everything in one process: the web server and the scheduler in a thread (development)."""
    from app import scheduler

    app = current_app._get_current_object()
    sched = None
    if app.config["SCHEDULER_ENABLED"]:
        sched = scheduler.build(app)
        sched.start()
        click.echo(f"Scheduler started with jobs: {', '.join(j.id for j in sched.get_jobs())}")
    media = _start_embedded_media(app)
    click.echo(f"Kangyang is at http://{host}:{port}/")
    try:
        # Werkzeug directly: Flask refuses app.run() inside its own CLI. No reloader, since
        # a reloader would start a second scheduler.
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        if sched is not None:
            sched.shutdown(wait=False)
        if media is not None:
            media.stop()


def _start_embedded_media(app):
    """The media process's server (device-check echo, recording) in a thread of its own,
    on the embedded default; production runs `python -m telecall.media` instead."""
    if not app.config["MEDIA_EMBEDDED"]:
        return None
    from urllib.parse import urlsplit

    from telecall import ice
    from telecall.media.embedded import start_in_thread

    address = urlsplit(app.config["MEDIA_URL"])
    with app.app_context():
        servers = ice.configured()
    try:
        media = start_in_thread(address.hostname, address.port, app.config["MEDIA_SECRET"], servers)
    except (RuntimeError, ValueError, OSError) as exc:
        click.echo(f"Media server not started ({exc}): the device check and recording are off")
        return None
    click.echo(f"Media server (echo, recording) at {media.url}")
    return media
