"""The live event stream of the alert pages: `GET /alerts/stream`, Server-Sent Events.

Two kinds of event, both read from the database (the source of truth):
- `alert`: a LIVE delivery to this user (the ladder told them), one per AlertDelivery row;
- `change`: a recorded change of an alert this user may see (opened, worsened, escalated,
  acknowledged, resolved, snoozed), one per row of the event log.
Each event's `id` is the stream's cursor after it, `<delivery id>-<event id>`: a browser that
reconnects sends it back as Last-Event-ID and gets what it missed, nothing twice. A first
connection without one starts from `?after=` (the page puts the cursor it was drawn at
there, so nothing falls between drawing the page and opening the stream) or else from now:
what happened before is on the page already.

The bus only wakes the stream; the stream then reads the database in a short session and
gives it back before it waits again, so an open stream holds a thread but no connection.
With nothing to say it sends a comment every heartbeat, which also finds closed sockets.

In PostgreSQL a transaction may commit after a later-numbered one; the stream therefore also
looks LOOKBACK back in time for rows it has not sent, so a late commit is not skipped.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, Response, current_app, request
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.models import Role, User
from app.alerts import bus
from app.alerts.models import Alert, AlertDelivery, Channel
from app.alerts.routes import any_role, bp, card_data
from app.audit.models import Event
from app.audit.services import record_access
from app.extensions import db
from app.policy import require_admin_reason, visible_resident_ids
from app.residents.routes import given_reason
from app.timeutil import utcnow

RETRY_MS = 3000  # the browser's wait before it reconnects
LOOKBACK = timedelta(seconds=30)
BATCH = 100
MAX_SECONDS = 600  # then the browser reconnects: its session is checked again


@dataclass
class Cursor:
    delivery: int = 0
    event: int = 0
    # rows sent (or there when the stream began) within LOOKBACK: id -> when written
    recent_deliveries: dict = field(default_factory=dict)
    recent_events: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.delivery}-{self.event}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        try:
            delivery, event = (int(part) for part in (text or "").split("-"))
        except ValueError:
            return None
        return cls(delivery, event) if delivery >= 0 and event >= 0 else None

    def forget_old(self, now: datetime) -> None:
        for recent in (self.recent_deliveries, self.recent_events):
            for key in [k for k, when in recent.items() if when < now - LOOKBACK]:
                del recent[key]


def now_cursor() -> Cursor:
    """Everything written so far counts as seen."""
    return Cursor(
        db.session.scalar(sa.select(sa.func.max(AlertDelivery.id))) or 0,
        db.session.scalar(sa.select(sa.func.max(Event.id))) or 0,
    )


def _visible_alert_ids(user: User) -> sa.Select:
    ids = visible_resident_ids(user)
    query = sa.select(Alert.id)
    return query if ids is None else query.where(Alert.resident_id.in_(ids))


def _unsent(row_id, written_at, after: int, recent: dict, now: datetime):
    """Rows after the cursor, and rows of the last LOOKBACK not sent yet (late commits)."""
    late = written_at >= now - LOOKBACK
    if recent:
        late = sa.and_(late, row_id.not_in(list(recent)))
    return sa.or_(row_id > after, late)


def _new_deliveries(user: User, cursor: Cursor, now: datetime) -> list[AlertDelivery]:
    unsent = _unsent(
        AlertDelivery.id,
        AlertDelivery.created_at,
        cursor.delivery,
        cursor.recent_deliveries,
        now,
    )
    query = (
        sa.select(AlertDelivery)
        .where(AlertDelivery.user_id == user.id, AlertDelivery.channel == Channel.LIVE, unsent)
        .order_by(AlertDelivery.id)
        .limit(BATCH)
    )
    return list(db.session.scalars(query))


def _new_events(user: User, cursor: Cursor, now: datetime) -> list[Event]:
    query = (
        sa.select(Event)
        .where(
            Event.entity_type == "alert",
            Event.entity_id.in_(_visible_alert_ids(user)),
            _unsent(Event.id, Event.at, cursor.event, cursor.recent_events, now),
        )
        .order_by(Event.id)
        .limit(BATCH)
    )
    return list(db.session.scalars(query))


def remember_present(user: User, cursor: Cursor) -> None:
    """Rows up to the cursor written within LOOKBACK were seen by the page or the last
    connection: they are not sent again."""
    since = utcnow() - LOOKBACK
    deliveries = sa.select(AlertDelivery.id, AlertDelivery.created_at).where(
        AlertDelivery.user_id == user.id,
        AlertDelivery.channel == Channel.LIVE,
        AlertDelivery.id <= cursor.delivery,
        AlertDelivery.created_at >= since,
    )
    events = sa.select(Event.id, Event.at).where(
        Event.entity_type == "alert",
        Event.entity_id.in_(_visible_alert_ids(user)),
        Event.id <= cursor.event,
        Event.at >= since,
    )
    cursor.recent_deliveries.update(db.session.execute(deliveries).all())
    cursor.recent_events.update(db.session.execute(events).all())


def _names(user_ids) -> dict[int, str]:
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    rows = db.session.execute(sa.select(User.id, User.display_name).where(User.id.in_(ids)))
    return dict(rows.all())


CHANGE_TEXTS = {
    "alert.opened": lambda d: _("New alert for %(resident)s: %(what)s", **d),
    "alert.worsened": lambda d: _("The alert for %(resident)s got worse: %(what)s", **d),
    "alert.escalated": lambda d: _(
        "Nobody has answered the alert for %(resident)s yet: the next person was told", **d
    ),
    "alert.acknowledged": lambda d: _("%(who)s is taking care of the alert for %(resident)s", **d),
    "alert.resolved": lambda d: _("The alert for %(resident)s was resolved", **d),
    "alert.snoozed": lambda d: _("The alert for %(resident)s was put off by %(who)s", **d),
}


def _message(kind: str, ident: int, event_name: str, text: str, alert: dict) -> dict:
    return {"kind": kind, "id": ident, "name": event_name, "text": text, "alert": alert}


def read(user: User, cursor: Cursor) -> tuple[list[tuple[str, dict, str]], bool]:
    """The events not sent yet, as (SSE event name, data, the cursor after it), and whether
    there may be more than a batch held; advances `cursor`."""
    now = utcnow()
    cursor.forget_old(now)
    deliveries = _new_deliveries(user, cursor, now)
    events = _new_events(user, cursor, now)
    alert_ids = {d.alert_id for d in deliveries} | {e.entity_id for e in events}
    alerts = {a.id: a for a in db.session.scalars(sa.select(Alert).where(Alert.id.in_(alert_ids)))}
    names = _names(e.actor_id for e in events)
    out = []
    for delivery in deliveries:
        data = card_data(user, alerts[delivery.alert_id])
        text = _("New alert for %(resident)s: %(what)s", **data)
        cursor.recent_deliveries[delivery.id] = delivery.created_at
        cursor.delivery = max(cursor.delivery, delivery.id)
        message = _message("alert", delivery.id, "alert.told", text, data)
        out.append(("alert", message, str(cursor)))
    for event in events:
        data = card_data(user, alerts[event.entity_id])
        words = CHANGE_TEXTS.get(event.name)
        who = names.get(event.actor_id) or _("the platform")
        text = words({**data, "who": who}) if words else ""
        cursor.recent_events[event.id] = event.at
        cursor.event = max(cursor.event, event.id)
        out.append(("change", _message("change", event.id, event.name, text, data), str(cursor)))
    return out, BATCH in (len(deliveries), len(events))


def _frame(name: str, data: dict, cursor: str) -> str:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"id: {cursor}\nevent: {name}\ndata: {body}\n\n"


def _read_in_short_session(app: Flask, user_id: int, locale: str, cursor: Cursor):
    """One look at the database: (frames, more to read at once), or None when the user
    may no longer be here."""
    with app.app_context(), force_locale(locale):
        try:
            # only reads: on SQLite, no write lock to queue for behind the ingest
            db.session.connection(execution_options={"sqlite_deferred": True})
            user = db.session.get(User, user_id)
            if user is None or not user.active:
                return None
            found, more = read(user, cursor)
            return [_frame(*item) for item in found], more
        finally:
            db.session.remove()  # nothing held while the stream waits


def events(app: Flask, user_id: int, locale: str, cursor: Cursor):
    """The response body: frames as they come, a comment when there is nothing to say."""
    with app.app_context():
        live = bus.get_bus()
        heartbeat = app.config.get("ALERT_STREAM_HEARTBEAT", 15)
    yield f"retry: {RETRY_MS}\n: {cursor}\n\n"
    ends = time.monotonic() + MAX_SECONDS
    seen = live.version(user_id)
    while time.monotonic() < ends:
        got = _read_in_short_session(app, user_id, locale, cursor)
        if got is None:
            return
        frames, more = got
        if frames:
            yield "".join(frames)
        if more:
            continue  # a full batch: read on before waiting
        now_seen = live.wait(user_id, seen, timeout=heartbeat)
        if now_seen == seen:
            yield ": keep-alive\n\n"
        seen = now_seen


def starting_cursor(user: User) -> Cursor:
    """Last-Event-ID (a reconnect), else `?after=` (the page's cursor), else now."""
    cursor = (
        Cursor.parse(request.headers.get("Last-Event-ID"))
        or Cursor.parse(request.args.get("after"))
        or now_cursor()
    )
    remember_present(user, cursor)
    return cursor


@bp.get("/stream")
@any_role
def stream():
    if current_user.role == Role.ADMIN:
        reason = given_reason(request.args)
        require_admin_reason(current_user, reason)
        record_access("stream", None, "alerts", reason=reason)
    cursor = starting_cursor(current_user)
    body = events(current_app._get_current_object(), current_user.id, str(get_locale()), cursor)
    return Response(
        body,
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
