"""The ticketing service's environment, read once under the platform's rules (blank = default)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Annotated

from pydantic import AfterValidator, Field

from services.events import EVENTS_TOPIC
from services.platform.kafka import KafkaSettings
from services.platform.settings import (
    CommaList,
    HttpUrl,
    SettingsError,
    SqlIdentifier,
    Text,
)

__all__ = ["Settings", "SettingsError"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _limits(spec: tuple[str, ...]) -> tuple[str, ...]:
    """``group=COUNT/SECONDS`` items (or the single word ``off``), checked here so start-up names them."""
    if spec == ("off",):
        return spec
    for item in spec:
        group, _, rule = item.partition("=")
        count, _, seconds = rule.partition("/")
        if not group or not count.isdigit() or not seconds.isdigit() or int(count) < 1 or int(seconds) < 1:
            raise ValueError(f"{item!r} is not GROUP=COUNT/SECONDS (e.g. issue=10/60) or 'off'")
    return spec


def _networks(spec: tuple[str, ...]) -> tuple[str, ...]:
    for item in spec:
        ipaddress.ip_network(item, strict=False)  # ValueError names the bad one
    return spec


def _share(value: float) -> float:
    if not 0 < value <= 1:
        raise ValueError("must be a fraction in (0, 1]")
    return value


class Settings(KafkaSettings):
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
    park_window_minutes: int = Field(15, alias="TICKETING_PARK_WINDOW_MINUTES", ge=1, le=24 * 60)
    reactivate_window_minutes: int = Field(10, alias="TICKETING_REACTIVATE_WINDOW_MINUTES", ge=0, le=24 * 60)
    audit_retention_days: int = Field(365, alias="TICKETING_AUDIT_RETENTION_DAYS", ge=1, le=36500)
    public_url: HttpUrl | None = Field(None, alias="TICKETING_PUBLIC_URL")
    # Abuse limits at the edge (services/ticketing/limits.py); docs/operations.md explains each.
    rate_limits: Annotated[CommaList, AfterValidator(_limits)] = Field((), alias="TICKETING_RATE_LIMITS")
    trusted_proxies: Annotated[CommaList, AfterValidator(_networks)] = Field(
        (), alias="TICKETING_TRUSTED_PROXIES"
    )
    allowed_origins: CommaList = Field((), alias="TICKETING_ALLOWED_ORIGINS")
    kiosk_tokens: CommaList = Field((), alias="TICKETING_KIOSK_TOKENS", repr=False)
    # The largest share of a service's daily quota one client address may take.
    issue_share: Annotated[float, AfterValidator(_share)] = Field(0.1, alias="TICKETING_ISSUE_SHARE")

    @property
    def limits_enabled(self) -> bool:
        """False when ``TICKETING_RATE_LIMITS=off`` (a closed network, load tests)."""
        return self.rate_limits != ("off",)

    def limit_overrides(self) -> Mapping[str, tuple[int, int]]:
        """``{group: (count, seconds)}`` from ``TICKETING_RATE_LIMITS``."""
        if not self.limits_enabled:
            return {}
        out: dict[str, tuple[int, int]] = {}
        for item in self.rate_limits:
            group, _, rule = item.partition("=")
            count, _, seconds = rule.partition("/")
            out[group] = (int(count), int(seconds))
        return out

    def proxy_networks(self) -> tuple[Network, ...]:
        """The trusted proxies as networks."""
        return tuple(ipaddress.ip_network(p, strict=False) for p in self.trusted_proxies)

    survey_desk_window_minutes: int = Field(
        15, alias="TICKETING_SURVEY_DESK_WINDOW_MINUTES", ge=1, le=24 * 60
    )
    # Appointments (antrian online) and the notification port.
    nik_secret: Text = Field("antrian-dev-nik-key", alias="TICKETING_NIK_SECRET", repr=False)
    webhook_url: HttpUrl | None = Field(None, alias="TICKETING_WEBHOOK_URL")
    webhook_secret: Text = Field("antrian-dev-webhook-key", alias="TICKETING_WEBHOOK_SECRET", repr=False)
    notify_enabled: bool = Field(True, alias="TICKETING_NOTIFY")
    notify_interval_seconds: float = Field(5.0, alias="TICKETING_NOTIFY_INTERVAL", gt=0, le=3600)
    notify_max_attempts: int = Field(8, alias="TICKETING_NOTIFY_MAX_ATTEMPTS", ge=1, le=100)
    require_kiosk_token: bool = Field(False, alias="TICKETING_REQUIRE_KIOSK_TOKEN")
