"""Sign-in, account lock-out, password hashing and API bearer tokens."""

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from app.accounts.models import ApiToken, User
from app.audit.services import record_event
from app.extensions import db
from app.timeutil import utcnow

_hasher = PasswordHasher()
# Tests hash thousands of passwords; argon2 at its minimum keeps them quick.
_fast_hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def _password_hasher() -> PasswordHasher:
    return _fast_hasher if current_app.config.get("PASSWORD_HASH_FAST") else _hasher


def hash_password(password: str) -> str:
    return _password_hasher().hash(password)


def check_password(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class SignInError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "invalid" or "locked"


def find_user(identifier: str) -> User | None:
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    query = sa.select(User).where(sa.or_(User.username == identifier, User.phone == identifier))
    return db.session.scalars(query).first()


def authenticate(identifier: str, password: str) -> User:
    """The user for these credentials; counts failures and locks the account after too many.

    An unknown name and a wrong password give the same answer, so names cannot be probed.
    """
    user = find_user(identifier)
    now = utcnow()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        raise SignInError("locked")
    if user is None or not user.active or not check_password(user, password):
        if user is not None:
            _count_failure(user, now)
        raise SignInError("invalid")
    if user.failed_logins or user.locked_until:
        user.failed_logins, user.locked_until = 0, None
    user.last_login_at = now
    _rehash_if_needed(user, password)
    return user


def _count_failure(user: User, now) -> None:
    user.failed_logins += 1
    if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
        user.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
        user.failed_logins = 0
        record_event(
            "user", user.id, "user.locked", "unlocked", "locked", "too many failed sign-ins"
        )
    db.session.flush()


def _rehash_if_needed(user: User, password: str) -> None:
    if _hasher.check_needs_rehash(user.password_hash) and not current_app.config.get(
        "PASSWORD_HASH_FAST"
    ):
        user.password_hash = hash_password(password)


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> tuple[str, ApiToken]:
    """A new bearer token; the plain token is returned once and only its digest is kept."""
    token = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(hours=current_app.config["API_TOKEN_HOURS"])
    row = ApiToken(user_id=user.id, digest=_token_digest(token), expires_at=expires)
    db.session.add(row)
    db.session.flush()
    return token, row


def user_for_token(token: str) -> User | None:
    row = db.session.scalars(
        sa.select(ApiToken).where(ApiToken.digest == _token_digest(token))
    ).first()
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    return row.user if row.user.active else None


def purge_expired_tokens(older_than: timedelta = timedelta(days=7)) -> int:
    """Scheduled: delete tokens that expired a while ago (kept a week for investigation)."""
    result = db.session.execute(
        sa.delete(ApiToken).where(ApiToken.expires_at < utcnow() - older_than)
    )
    return result.rowcount or 0
