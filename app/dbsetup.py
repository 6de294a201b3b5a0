"""Engine settings that make SQLite behave like the production database where it matters."""

import sqlite3

import sqlalchemy as sa
from flask import Flask

_hooks_registered = False


def configure_engine_options(app: Flask) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
        options.pop("pool_pre_ping", None)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _on_connect(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        # WAL lets readers go on while one request writes (a no-op for in-memory databases).
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


def _on_begin(connection) -> None:
    if connection.dialect.name == "sqlite":
        # IMMEDIATE: a transaction takes the write lock when it starts. With plain BEGIN,
        # two requests that read and then write deadlock and one fails at once with
        # "database is locked"; this way the second waits its turn (busy_timeout).
        # SQLite is the single-process embedded default; production runs PostgreSQL.
        # A reader that only reads and says so (the alert streams: `sqlite_deferred`) takes
        # no lock: in WAL it sees the last commit without queueing behind the writers.
        deferred = connection.get_execution_options().get("sqlite_deferred")
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


def register_sqlite_hooks(_app: Flask) -> None:
    global _hooks_registered
    if _hooks_registered:
        return
    sa.event.listen(sa.engine.Engine, "connect", _on_connect)
    sa.event.listen(sa.engine.Engine, "begin", _on_begin)
    _hooks_registered = True
