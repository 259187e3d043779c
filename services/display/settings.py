"""The display service's environment, read once under the platform's rules (blank = default)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from services.events import DLQ_TOPIC, EVENTS_TOPIC
from services.platform.kafka import KafkaSettings
from services.platform.settings import CommaList, HttpUrl, Text, TimeZoneName


class Settings(KafkaSettings):
    """Everything the display service reads from its environment."""

    kafka_bootstrap_servers: Text = Field("localhost:9092", alias="KAFKA_BOOTSTRAP_SERVERS")
    host: Text = Field("0.0.0.0", alias="DISPLAY_HOST")  # noqa: S104  (every interface by design)
    port: int = Field(8081, alias="DISPLAY_PORT", ge=0, le=65535)
    events_topic: Text = Field(EVENTS_TOPIC, alias="ANTRIAN_EVENTS_TOPIC")
    dlq_topic: Text = Field(DLQ_TOPIC, alias="ANTRIAN_DLQ_TOPIC")
    ticketing_url: HttpUrl = Field("http://127.0.0.1:8080", alias="DISPLAY_TICKETING_URL")
    default_timezone: TimeZoneName = Field("Asia/Makassar", alias="DISPLAY_DEFAULT_TIMEZONE")
    directory_ttl_seconds: int = Field(300, alias="DISPLAY_DIRECTORY_TTL", ge=5, le=86400)
    audio_cache: Path = Field(Path(".run/audio"), alias="DISPLAY_AUDIO_CACHE")
    espeak: Text = Field("espeak-ng", alias="DISPLAY_ESPEAK")
    # Origins besides the display's own whose pages may open a screen's websocket; "*" allows any.
    allowed_origins: CommaList = Field((), alias="DISPLAY_ALLOWED_ORIGINS")
    # A connection's request (a page or a websocket handshake) must be complete within this time.
    idle_timeout_seconds: float = Field(10.0, alias="DISPLAY_IDLE_TIMEOUT", ge=1, le=3600)
    max_connections: int = Field(10000, alias="DISPLAY_MAX_CONNECTIONS", ge=1, le=1_000_000)
    max_connections_per_address: int = Field(
        64, alias="DISPLAY_MAX_CONNECTIONS_PER_ADDRESS", ge=1, le=1_000_000
    )
    ping_interval_seconds: int = Field(20, alias="DISPLAY_PING_INTERVAL", ge=1, le=3600)
    client_buffer_bytes: int = Field(256 * 1024, alias="DISPLAY_CLIENT_BUFFER", ge=4096, le=1 << 26)
    partition_check_seconds: int = Field(30, alias="DISPLAY_PARTITION_CHECK", ge=1, le=3600)
    # Pages of other sites that may frame the hall page (CSP frame-ancestors); none by default.
    frame_ancestors: CommaList = Field((), alias="DISPLAY_FRAME_ANCESTORS")
