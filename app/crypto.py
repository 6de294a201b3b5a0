"""Encryption at rest for personal fields (Fernet), and keyed digests for exact look-ups."""

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


def _fernet() -> Fernet:
    return Fernet(current_app.config["FIELD_ENCRYPTION_KEY"].encode())


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        # Wrong key: say so without printing the value.
        raise RuntimeError("encrypted field cannot be read with FIELD_ENCRYPTION_KEY") from None


def digest(plaintext: str) -> str:
    """HMAC-SHA256 keyed by the field key: finds duplicates without storing the plaintext."""
    key = hashlib.sha256(b"kangyang-digest:" + current_app.config["FIELD_ENCRYPTION_KEY"].encode())
    return hmac.new(key.digest(), plaintext.encode(), hashlib.sha256).hexdigest()
