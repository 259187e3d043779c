"""Passwords and bearer tokens.

Passwords are hashed with argon2id (memory-hard); verifying one takes tens of
milliseconds, so the edge runs it in a worker thread. Tokens are random, and
only their SHA-256 is stored, so a database dump does not hand out sessions.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.ticketing.errors import Forbidden

_HASHER = PasswordHasher()
# Verified against when a user name is unknown, so both paths cost the same.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class User:
    """An authenticated operator or admin."""

    username: str
    role: str
    counter_ids: tuple[str, ...]

    @property
    def is_admin(self) -> bool:
        """Admins may act at any counter and call a specific ticket."""
        return self.role == "admin"

    def require_counter(self, counter_id: str) -> None:
        """Raise Forbidden unless this user may act at ``counter_id``."""
        if not self.is_admin and counter_id not in self.counter_ids:
            raise Forbidden(f"user {self.username!r} is not assigned to counter {counter_id!r}")


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored_hash``; constant work when the user is unknown."""
    try:
        return _HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """A fresh random bearer token."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What is stored for a token: its SHA-256 in hex."""
    return hashlib.sha256(token.encode()).hexdigest()
