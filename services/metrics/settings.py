"""The metrics service's environment, read once under the platform's rules (blank = default)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from services.events import DLQ_TOPIC, EVENTS_TOPIC
from services.platform.kafka import KafkaSettings
from services.platform.settings import (
    PostgresDsn,
    SqlIdentifier,
    Text,
    TimeZoneName,
)

MIN_RETENTION_DAYS = 8  # Kafka keeps an event 7 days by default; a mark must outlive it


def _outlives_kafka(days: int) -> int:
    if days < MIN_RETENTION_DAYS:
        raise ValueError(f"must be at least {MIN_RETENTION_DAYS} days (longer than Kafka keeps events)")
    return days


class Settings(KafkaSettings):
    """Everything the metrics service reads from its environment."""

    kafka_bootstrap_servers: Text = Field("localhost:9092", alias="KAFKA_BOOTSTRAP_SERVERS")
    database_url: PostgresDsn = Field(
        "postgresql://antrian:antrian@127.0.0.1:5433/antrian", alias="DATABASE_URL", repr=False
    )
    host: Text = Field("0.0.0.0", alias="METRICS_HOST")  # noqa: S104  (every interface by design)
    port: int = Field(8082, alias="METRICS_PORT", ge=0, le=65535)
    db_schema: SqlIdentifier = Field("metrics", alias="METRICS_DB_SCHEMA")
    events_topic: Text = Field(EVENTS_TOPIC, alias="ANTRIAN_EVENTS_TOPIC")
    dlq_topic: Text = Field(DLQ_TOPIC, alias="ANTRIAN_DLQ_TOPIC")
    consumer_group: Text = Field("metrics", alias="METRICS_CONSUMER_GROUP")
    default_timezone: TimeZoneName = Field("Asia/Makassar", alias="METRICS_DEFAULT_TIMEZONE")
    # How long an event's "processed" mark is kept: longer than Kafka keeps the
    # event (7 days by default), so no redelivery or replay can outlive its mark.
    processed_retention_days: Annotated[int, AfterValidator(_outlives_kafka)] = Field(
        35, alias="METRICS_PROCESSED_RETENTION_DAYS"
    )
