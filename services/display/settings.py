"""Display settings, read once from the environment into a frozen object.

A missing or malformed value stops start-up with a :class:`SettingsError`
naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.display.errors import SettingsError
from services.events import DLQ_TOPIC, EVENTS_TOPIC


@dataclass(frozen=True)
class Settings:
    """Everything the display service reads from its environment."""

    kafka_bootstrap_servers: str = "localhost:9092"
    host: str = "0.0.0.0"  # noqa: S104  (a service listens on every interface by design)
    port: int = 8081
    events_topic: str = EVENTS_TOPIC
    dlq_topic: str = DLQ_TOPIC
    ticketing_url: str = "http://127.0.0.1:8080"
    default_timezone: str = "Asia/Makassar"
    directory_ttl_seconds: int = 300
    audio_cache: Path = Path(".run/audio")
    espeak: str = "espeak-ng"
    allowed_origins: tuple[str, ...] = ()  # besides the display's own origin; "*" allows any
    idle_timeout_seconds: float = 10.0  # a connection's request (page or handshake) must be complete by then
    max_connections: int = 10000  # open websockets in all
    max_connections_per_address: int = 64  # open websockets from one client address
    ping_interval_seconds: int = 20
    client_buffer_bytes: int = 256 * 1024
    partition_check_seconds: int = 30
    log_format: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``env`` (default: ``os.environ``)."""
        env = os.environ if env is None else env
        log_format = env.get("ANTRIAN_LOG_FORMAT") or None
        if log_format not in (None, "json", "text"):
            raise SettingsError(f"ANTRIAN_LOG_FORMAT must be 'json' or 'text', got {log_format!r}")
        timezone = _text(env, "DISPLAY_DEFAULT_TIMEZONE", cls.default_timezone)
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(f"DISPLAY_DEFAULT_TIMEZONE is not a time zone: {timezone!r}") from None
        url = _text(env, "DISPLAY_TICKETING_URL", cls.ticketing_url).rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise SettingsError(f"DISPLAY_TICKETING_URL must be an http(s) URL, got {url!r}")
        origins = tuple(o.strip() for o in env.get("DISPLAY_ALLOWED_ORIGINS", "").split(",") if o.strip())
        return cls(
            kafka_bootstrap_servers=_text(env, "KAFKA_BOOTSTRAP_SERVERS", cls.kafka_bootstrap_servers),
            host=_text(env, "DISPLAY_HOST", cls.host),
            port=_int(env, "DISPLAY_PORT", cls.port, 0, 65535),
            events_topic=_text(env, "ANTRIAN_EVENTS_TOPIC", cls.events_topic),
            dlq_topic=_text(env, "ANTRIAN_DLQ_TOPIC", cls.dlq_topic),
            ticketing_url=url,
            default_timezone=timezone,
            directory_ttl_seconds=_int(env, "DISPLAY_DIRECTORY_TTL", cls.directory_ttl_seconds, 5, 86400),
            audio_cache=Path(_text(env, "DISPLAY_AUDIO_CACHE", str(cls.audio_cache))),
            espeak=_text(env, "DISPLAY_ESPEAK", cls.espeak),
            allowed_origins=origins,
            idle_timeout_seconds=_int(env, "DISPLAY_IDLE_TIMEOUT", int(cls.idle_timeout_seconds), 1, 3600),
            max_connections=_int(env, "DISPLAY_MAX_CONNECTIONS", cls.max_connections, 1, 1_000_000),
            max_connections_per_address=_int(
                env, "DISPLAY_MAX_CONNECTIONS_PER_ADDRESS", cls.max_connections_per_address, 1, 1_000_000
            ),
            ping_interval_seconds=_int(env, "DISPLAY_PING_INTERVAL", cls.ping_interval_seconds, 1, 3600),
            client_buffer_bytes=_int(env, "DISPLAY_CLIENT_BUFFER", cls.client_buffer_bytes, 4096, 1 << 26),
            partition_check_seconds=_int(
                env, "DISPLAY_PARTITION_CHECK", cls.partition_check_seconds, 1, 3600
            ),
            log_format=log_format,
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
