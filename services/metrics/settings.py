"""Settings read once from the environment into a frozen, typed object."""

from __future__ import annotations

import os
import re
import sys
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field

from services.events import DLQ_TOPIC, EVENTS_TOPIC
from services.metrics.errors import SettingsError

_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the metrics service reads from its environment."""

    kafka_bootstrap_servers: str = "localhost:9092"
    database_url: str = field(default="postgresql://antrian:antrian@127.0.0.1:5433/antrian", repr=False)
    host: str = "0.0.0.0"  # noqa: S104 - a service listens on every interface by design
    port: int = 8082
    db_schema: str = "metrics"
    events_topic: str = EVENTS_TOPIC
    dlq_topic: str = DLQ_TOPIC
    consumer_group: str = "metrics"
    default_timezone: str = "Asia/Makassar"
    log_format: str = "json"
    # How long an event's "processed" mark is kept: longer than Kafka keeps the
    # event (7 days by default), so no redelivery or replay can outlive its mark.
    processed_retention_days: int = 35

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings; raise :class:`SettingsError` naming the first bad variable."""
        env = os.environ if env is None else env
        default = cls()
        schema = env.get("METRICS_DB_SCHEMA", default.db_schema)
        if not _SCHEMA_RE.match(schema):
            raise SettingsError(f"METRICS_DB_SCHEMA must be a lower-case SQL identifier, got {schema!r}")
        tz_name = env.get("METRICS_DEFAULT_TIMEZONE", default.default_timezone)
        try:
            zoneinfo.ZoneInfo(tz_name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(f"METRICS_DEFAULT_TIMEZONE is not a known time zone: {tz_name!r}") from exc
        log_format = env.get("ANTRIAN_LOG_FORMAT", "text" if sys.stderr.isatty() else "json")
        if log_format not in ("json", "text"):
            raise SettingsError(f"ANTRIAN_LOG_FORMAT must be 'json' or 'text', got {log_format!r}")
        database_url = env.get("DATABASE_URL", default.database_url)
        if not database_url.startswith(("postgresql://", "postgres://")):
            # The value may hold a password: name the variable, never echo it.
            raise SettingsError("DATABASE_URL must be a postgresql:// DSN")
        return cls(
            kafka_bootstrap_servers=_non_empty(
                env, "KAFKA_BOOTSTRAP_SERVERS", default.kafka_bootstrap_servers
            ),
            database_url=database_url,
            host=_non_empty(env, "METRICS_HOST", default.host),
            port=_port(env, "METRICS_PORT", default.port),
            db_schema=schema,
            events_topic=_non_empty(env, "ANTRIAN_EVENTS_TOPIC", default.events_topic),
            dlq_topic=_non_empty(env, "ANTRIAN_DLQ_TOPIC", default.dlq_topic),
            consumer_group=_non_empty(env, "METRICS_CONSUMER_GROUP", default.consumer_group),
            default_timezone=tz_name,
            log_format=log_format,
            processed_retention_days=_retention_days(env, default.processed_retention_days),
        )


def _non_empty(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, default).strip()
    if not value:
        raise SettingsError(f"{name} must not be empty")
    return value


def _int(env: Mapping[str, str], name: str, default: int, what: str) -> int:
    """The integer in ``name``, or ``default`` when unset; ``what`` describes it in the error."""
    raw = env.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be {what}, got {raw!r}") from exc


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    port = _int(env, name, default, "an integer port")
    if not 0 <= port <= 65535:
        raise SettingsError(f"{name} must be between 0 and 65535, got {port}")
    return port


MIN_RETENTION_DAYS = 8  # Kafka keeps an event 7 days by default; a mark must outlive it


def _retention_days(env: Mapping[str, str], default: int) -> int:
    name = "METRICS_PROCESSED_RETENTION_DAYS"
    days = _int(env, name, default, "a whole number of days")
    if days < MIN_RETENTION_DAYS:
        raise SettingsError(
            f"{name} must be at least {MIN_RETENTION_DAYS} days (longer than Kafka keeps events), got {days}"
        )
    return days
