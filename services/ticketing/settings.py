"""The ticketing service's environment, read once under the platform's rules (blank = default)."""

from __future__ import annotations

from pydantic import Field

from services.events import EVENTS_TOPIC
from services.platform.settings import (
    HttpUrl,
    ServiceSettings,
    SettingsError,
    SqlIdentifier,
    Text,
)

__all__ = ["Settings", "SettingsError"]


class Settings(ServiceSettings):
    """Everything the ticketing service reads from its environment."""

    database_url: Text = Field(
        "postgresql://antrian:antrian@127.0.0.1:5433/antrian", alias="DATABASE_URL", repr=False
    )
    kafka_bootstrap_servers: Text = Field("localhost:9092", alias="KAFKA_BOOTSTRAP_SERVERS")
    host: Text = Field("0.0.0.0", alias="TICKETING_HOST")  # noqa: S104  (every interface by design)
    port: int = Field(8080, alias="TICKETING_PORT", ge=0, le=65535)
    db_schema: SqlIdentifier = Field("ticketing", alias="TICKETING_DB_SCHEMA")
    events_topic: Text = Field(EVENTS_TOPIC, alias="ANTRIAN_EVENTS_TOPIC")
    admin_password: str | None = Field(None, alias="ANTRIAN_ADMIN_PASSWORD", repr=False)
    token_ttl_seconds: int = Field(8 * 3600, alias="TICKETING_TOKEN_TTL_SECONDS", ge=60, le=30 * 86400)
    relay_enabled: bool = Field(True, alias="TICKETING_RELAY")
    housekeeping_enabled: bool = Field(True, alias="TICKETING_HOUSEKEEPING")
    housekeeping_interval_seconds: int = Field(60, alias="TICKETING_HOUSEKEEPING_INTERVAL", ge=1, le=3600)
    db_pool_size: int = Field(10, alias="TICKETING_DB_POOL_SIZE", ge=2, le=200)
    public_url: HttpUrl | None = Field(None, alias="TICKETING_PUBLIC_URL")
    # Appointments (antrian online) and the notification port.
    nik_secret: Text = Field("antrian-dev-nik-key", alias="TICKETING_NIK_SECRET", repr=False)
    webhook_url: HttpUrl | None = Field(None, alias="TICKETING_WEBHOOK_URL")
    webhook_secret: Text = Field("antrian-dev-webhook-key", alias="TICKETING_WEBHOOK_SECRET", repr=False)
    notify_enabled: bool = Field(True, alias="TICKETING_NOTIFY")
    notify_interval_seconds: float = Field(5.0, alias="TICKETING_NOTIFY_INTERVAL", gt=0, le=3600)
    notify_max_attempts: int = Field(8, alias="TICKETING_NOTIFY_MAX_ATTEMPTS", ge=1, le=100)
    require_kiosk_token: bool = Field(False, alias="TICKETING_REQUIRE_KIOSK_TOKEN")
    kiosk_tokens: str = Field("", alias="TICKETING_KIOSK_TOKENS", repr=False)  # comma-separated
