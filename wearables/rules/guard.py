"""The rules' savepoint, opened on their first write.

A fault in a rule must not lose the readings of its request (the device would retry them
for ever), so what the rules write is undone on its own when they fail. Most requests
raise nothing, so the savepoint is opened only when a rule is about to write: SAVEPOINT
and RELEASE were a third of the rules' database time on every request.
"""

from __future__ import annotations

from contextvars import ContextVar

from app.extensions import db

_current: ContextVar[Guard | None] = ContextVar("alert_rules_guard", default=None)


class Guard:
    def __init__(self):
        self.savepoint = None

    def __enter__(self) -> Guard:
        self._token = _current.set(self)
        return self

    def __exit__(self, kind, error, trace) -> bool:
        _current.reset(self._token)
        if self.savepoint is not None and self.savepoint.is_active:
            if error is None:
                self.savepoint.commit()
            else:
                self.savepoint.rollback()
        return False


def writing() -> None:
    """Called by a rule before it writes (an alert, evidence, a draft, a resolution)."""
    guard = _current.get()
    if guard is not None and guard.savepoint is None:
        guard.savepoint = db.session.begin_nested()
