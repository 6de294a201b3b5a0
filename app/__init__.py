"""The application factory. Nothing here migrates, seeds or starts threads: every gunicorn
worker runs it, so it only wires things together."""

import logging
from pathlib import Path

from flask import Flask

from config import load_config


def create_app(config_name: str | None = None, **overrides) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_object(load_config(config_name))
    app.config.update(overrides)
    _configure_logging(app)

    from app import extensions, models  # noqa: F401  (models registers every table)

    _init_extensions(app)
    _register_blueprints(app)

    from app import auth_loader, cli, errorhandlers, templating, transactions

    app.before_request(auth_loader.protect_session_api_calls)
    transactions.register(app)
    errorhandlers.register(app)
    templating.register(app)
    cli.register(app)
    return app


def _configure_logging(app: Flask) -> None:
    # Log lines carry ids and routes only; never names, ID numbers or bodies.
    if not app.debug and not app.testing:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )


def _init_extensions(app: Flask) -> None:
    from app import auth_loader, dbsetup, i18n
    from app.extensions import api, babel, csrf, db, limiter, login_manager, migrate

    dbsetup.configure_engine_options(app)
    db.init_app(app)
    dbsetup.register_sqlite_hooks(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    login_manager.init_app(app)
    auth_loader.register(login_manager)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    limiter.init_app(app)
    api.init_app(app, spec_kwargs={"components": {"securitySchemes": _security_schemes()}})


def _security_schemes() -> dict:
    return {"bearerAuth": {"type": "http", "scheme": "bearer"}}


def _register_blueprints(app: Flask) -> None:
    import referral.followup_drafts  # noqa: F401 (registers the follow-ups' referral drafter)
    import referral.report_sections  # noqa: F401 (the weekly check's referral columns)
    from app.accounts.api import blp as accounts_api
    from app.admin.routes import bp as admin_pages
    from app.alerts.api import blp as alerts_api
    from app.alerts.link_routes import bp as alert_link_pages
    from app.alerts.routes import bp as alert_pages
    from app.auth.api import blp as auth_api
    from app.auth.routes import bp as auth_pages
    from app.contracts.api import blp as contracts_api
    from app.contracts.routes import bp as contract_pages
    from app.contracts.stats_api import blp as contracts_stats_api
    from app.extensions import api, csrf
    from app.followups.api import blp as followups_api
    from app.followups.routes import bp as followup_pages
    from app.kpis import measures  # noqa: F401 (registers app's KPIs; features register theirs)
    from app.kpis.api import blp as kpis_api
    from app.kpis.routes import bp as kpi_pages
    from app.notifications.routes import bp as notification_pages
    from app.notifications.routes import register_context as notifications_context
    from app.reports.api import blp as reports_api
    from app.reports.routes import bp as report_pages
    from app.residents.api import blp as residents_api
    from app.residents.import_api import blp as residents_import_api
    from app.residents.routes import bp as residents_pages
    from app.web.routes import bp as web_pages
    from referral import kpis as referral_kpis  # noqa: F401
    from referral.api import blp as referral_api
    from referral.routes import bp as referral_pages
    from referral.stats_api import blp as referral_stats_api
    from referral.stats_routes import bp as referral_stats_pages
    from telecall import kpis as visit_kpis  # noqa: F401
    from telecall.api import blp as visits_api
    from telecall.call_api import blp as call_api
    from telecall.call_routes import bp as call_pages
    from telecall.routes import bp as visit_pages
    from wearables import kpis as wearable_kpis  # noqa: F401
    from wearables.api import blp as wearables_api
    from wearables.dead_letters_api import blp as dead_letters_api
    from wearables.device_routes import bp as device_pages
    from wearables.routes import bp as vitals_pages
    from wearables.rules_api import blp as rules_api
    from wearables.scores_api import blp as scores_api

    pages = (web_pages, auth_pages, admin_pages, residents_pages)
    features = (
        contract_pages,
        notification_pages,
        referral_stats_pages,
        referral_pages,
        vitals_pages,
        device_pages,
        alert_link_pages,
        alert_pages,
        visit_pages,
        call_pages,
        followup_pages,
        kpi_pages,
        report_pages,
    )
    for blueprint in (*pages, *features):
        app.register_blueprint(blueprint)
    notifications_context(app)
    api_blueprints = (
        auth_api,
        accounts_api,
        residents_api,
        residents_import_api,
        contracts_api,
        contracts_stats_api,
        referral_api,
        wearables_api,
        referral_stats_api,
        dead_letters_api,
        scores_api,
        alerts_api,
        rules_api,
        visits_api,
        call_api,
        followups_api,
        kpis_api,
        reports_api,
    )
    for blueprint in api_blueprints:
        api.register_blueprint(blueprint)
        # Bearer-token clients carry no cookie to forge; session callers are checked
        # in auth_loader instead.
        csrf.exempt(blueprint)
