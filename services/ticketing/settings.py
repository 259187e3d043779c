"""Ticketing settings, read once from the environment into a frozen object.

A missing or malformed value stops start-up with a :class:`SettingsError` naming
the variable; the admin password is never printed (``repr`` hides it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from services.events import EVENTS_TOPIC

_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class SettingsError(ValueError):
    """An environment variable is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Settings:
    """Everything the ticketing service reads from its environment."""

    database_url: str = "postgresql://antrian:antrian@127.0.0.1:5433/antrian"
    kafka_bootstrap_servers: str = "localhost:9092"
    host: str = "0.0.0.0"  # noqa: S104  (a service listens on every interface by design)
    port: int = 8080
    db_schema: str = "ticketing"
    events_topic: str = EVENTS_TOPIC
    admin_password: str | None = field(default=None, repr=False)
    token_ttl_seconds: int = 8 * 3600
    relay_enabled: bool = True
    housekeeping_enabled: bool = True
    housekeeping_interval_seconds: int = 60
    db_pool_size: int = 10
    log_format: str | None = None
    public_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``env`` (default: ``os.environ``)."""
        env = os.environ if env is None else env
        schema = env.get("TICKETING_DB_SCHEMA", "ticketing")
        if not _SCHEMA_RE.match(schema):
            raise SettingsError(f"TICKETING_DB_SCHEMA must be a lower-case SQL identifier, got {schema!r}")
        log_format = env.get("ANTRIAN_LOG_FORMAT") or None
        if log_format not in (None, "json", "text"):
            raise SettingsError(f"ANTRIAN_LOG_FORMAT must be 'json' or 'text', got {log_format!r}")
        return cls(
            database_url=_text(env, "DATABASE_URL", cls.database_url),
            kafka_bootstrap_servers=_text(env, "KAFKA_BOOTSTRAP_SERVERS", cls.kafka_bootstrap_servers),
            host=_text(env, "TICKETING_HOST", cls.host),
            port=_int(env, "TICKETING_PORT", cls.port, 0, 65535),
            db_schema=schema,
            events_topic=_text(env, "ANTRIAN_EVENTS_TOPIC", cls.events_topic),
            admin_password=env.get("ANTRIAN_ADMIN_PASSWORD") or None,
            token_ttl_seconds=_int(env, "TICKETING_TOKEN_TTL_SECONDS", cls.token_ttl_seconds, 60, 30 * 86400),
            relay_enabled=_bool(env, "TICKETING_RELAY", default=True),
            housekeeping_enabled=_bool(env, "TICKETING_HOUSEKEEPING", default=True),
            housekeeping_interval_seconds=_int(
                env, "TICKETING_HOUSEKEEPING_INTERVAL", cls.housekeeping_interval_seconds, 1, 3600
            ),
            db_pool_size=_int(env, "TICKETING_DB_POOL_SIZE", cls.db_pool_size, 2, 200),
            log_format=log_format,
            public_url=_public_url(env),
        )


def _text(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, default).strip()
    if not value:
        raise SettingsError(f"{name} must not be empty")
    return value


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be 0/1 (or true/false), got {raw!r}")


def _public_url(env: Mapping[str, str]) -> str | None:
    raw = (env.get("TICKETING_PUBLIC_URL") or "").strip().rstrip("/")
    if not raw:
        return None
    if not raw.startswith(("http://", "https://")):
        raise SettingsError(f"TICKETING_PUBLIC_URL must be an http(s) URL, got {raw!r}")
    return raw
