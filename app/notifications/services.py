"""Telling people things inside the platform. Each notification is written once per key."""

import sqlalchemy as sa
from flask_babel import gettext

from app.accounts.models import User
from app.extensions import db
from app.notifications.models import Notification
from app.timeutil import utcnow


def notify(user: User, kind: str, message: str, params: dict, link: str | None, key: str) -> bool:
    """Add a notification unless this user already has one with this key; True if added."""
    exists = sa.select(Notification.id).where(
        Notification.user_id == user.id, Notification.dedupe_key == key
    )
    if db.session.scalar(exists) is not None:
        return False
    db.session.add(
        Notification(
            user_id=user.id, kind=kind, message=message, params=params, link=link, dedupe_key=key
        )
    )
    return True


def text_of(notification: Notification) -> str:
    return gettext(notification.message, **(notification.params or {}))


def for_user(user: User, limit: int = 50) -> list[Notification]:
    query = (
        sa.select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query).all())


def unread_count(user: User) -> int:
    query = sa.select(sa.func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    return db.session.scalar(query) or 0


def mark_all_read(user: User) -> int:
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount or 0
