"""Passwords and bearer tokens.

Passwords are hashed with argon2id (memory-hard); verifying one takes tens of
milliseconds, so the edge runs it in a worker thread. Tokens are random, and
only their SHA-256 is stored, so a database dump does not hand out sessions.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.ticketing.errors import Forbidden

_HASHER = PasswordHasher()
# Verified against when a user name is unknown, so both paths cost the same.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


class Role(enum.StrEnum):
    """Who a user is, from the whole deployment down to one counter (DESIGN.md, second wave)."""

    ADMIN = "admin"  # the deployment: every branch
    BRANCH_ADMIN = "branch_admin"  # one branch's master data and users
    SUPERVISOR = "supervisor"  # watches and intervenes in one branch
    OPERATOR = "operator"  # the counters assigned to them


# Roles that may act at any counter of their branch (the admin: of every branch).
_BRANCH_WIDE = frozenset({Role.ADMIN, Role.BRANCH_ADMIN, Role.SUPERVISOR})


@dataclass(frozen=True, slots=True)
class User:
    """An authenticated staff member."""

    username: str
    role: str
    counter_ids: tuple[str, ...]
    branch_id: str | None = None

    @property
    def is_admin(self) -> bool:
        """Admins may act anywhere and call a specific ticket."""
        return self.role == Role.ADMIN

    def in_branch(self, branch_id: str) -> bool:
        """True when this user's authority covers ``branch_id``."""
        return self.is_admin or self.branch_id == branch_id

    def require_role(self, branch_id: str | None, *roles: Role) -> None:
        """Raise Forbidden unless this user has one of ``roles`` (admin always does) over ``branch_id``."""
        if self.is_admin:
            return
        if self.role not in roles:
            raise Forbidden(f"user {self.username!r} ({self.role}) may not do this")
        if branch_id is not None and self.branch_id != branch_id:
            raise Forbidden(f"user {self.username!r} has no authority over branch {branch_id!r}")

    def may_act_at(self, counter_id: str | None, counter_branch_id: str | None = None) -> bool:
        """True when this user is assigned to ``counter_id``, or has authority over its whole branch."""
        if self.is_admin or counter_id in self.counter_ids:
            return True
        return (
            self.role in _BRANCH_WIDE
            and counter_branch_id is not None
            and self.branch_id == counter_branch_id
        )

    def require_counter(self, counter_id: str, counter_branch_id: str | None = None) -> None:
        """Raise Forbidden unless this user may act at ``counter_id`` (of ``counter_branch_id``)."""
        if not self.may_act_at(counter_id, counter_branch_id):
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
