"""Writing the audit log and the event log. Services call these; they flush nothing themselves."""

from flask import has_request_context, request
from flask_login import current_user

from app.audit.models import AuditEntry, Event
from app.extensions import db


def _actor():
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user
    return None


def record_access(
    action: str,
    resident_id: int | None,
    object_type: str = "resident",
    object_id: int | str | None = None,
    reason: str | None = None,
    actor=None,
) -> None:
    """Record a read or change of a resident's record by anyone but the resident."""
    actor = actor or _actor()
    if actor is not None and actor.resident_id is not None and actor.resident_id == resident_id:
        return
    db.session.add(
        AuditEntry(
            actor_id=actor.id if actor else None,
            actor_role=str(actor.role) if actor else "system",
            action=action,
            object_type=object_type,
            object_id=str(object_id if object_id is not None else resident_id),
            resident_id=resident_id,
            remote_addr=request.remote_addr if has_request_context() else None,
            reason=reason,
        )
    )


def record_event(
    entity_type: str,
    entity_id: int,
    name: str,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    data: dict | None = None,
    actor=None,
) -> Event:
    actor = actor or _actor()
    event = Event(
        actor_id=actor.id if actor else None,
        entity_type=entity_type,
        entity_id=entity_id,
        name=name,
        from_state=str(from_state) if from_state is not None else None,
        to_state=str(to_state) if to_state is not None else None,
        reason=reason,
        data=data,
    )
    db.session.add(event)
    return event


def history(entity_type: str, entity_id: int) -> list[Event]:
    """Every recorded state change of one thing, oldest first."""
    import sqlalchemy as sa

    query = (
        sa.select(Event)
        .where(Event.entity_type == entity_type, Event.entity_id == entity_id)
        .order_by(Event.at, Event.id)
    )
    return list(db.session.scalars(query).all())
