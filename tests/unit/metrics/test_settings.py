"""Settings from the environment: defaults, and loud failures naming the variable."""

import pytest

from services.metrics.errors import SettingsError
from services.metrics.settings import Settings


def test_defaults() -> None:
    settings = Settings.from_env({"ANTRIAN_LOG_FORMAT": "json"})
    assert settings.port == 8082
    assert settings.db_schema == "metrics"
    assert settings.events_topic == "queue.events"
    assert settings.dlq_topic == "queue.events.dlq"
    assert settings.consumer_group == "metrics"
    assert settings.default_timezone == "Asia/Makassar"
    assert settings.processed_retention_days == 35


def test_retention_must_outlive_kafka() -> None:
    assert Settings.from_env({"METRICS_PROCESSED_RETENTION_DAYS": "8"}).processed_retention_days == 8
    with pytest.raises(SettingsError, match="at least 8 days"):
        Settings.from_env({"METRICS_PROCESSED_RETENTION_DAYS": "0"})


def test_overrides() -> None:
    settings = Settings.from_env(
        {
            "METRICS_PORT": "0",
            "METRICS_DB_SCHEMA": "test_abc",
            "ANTRIAN_EVENTS_TOPIC": "t.events",
            "ANTRIAN_DLQ_TOPIC": "t.dlq",
            "METRICS_CONSUMER_GROUP": "g1",
            "METRICS_TICKETING_URL": "http://127.0.0.1:9999/",  # no longer used: accepted, ignored
            "METRICS_DEFAULT_TIMEZONE": "Asia/Jayapura",
        }
    )
    assert (settings.port, settings.db_schema, settings.consumer_group) == (0, "test_abc", "g1")
    assert settings.default_timezone == "Asia/Jayapura"
    assert not hasattr(settings, "ticketing_url")  # metrics never calls ticketing


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("METRICS_PORT", "eighty"),
        ("METRICS_PORT", "70000"),
        ("METRICS_DB_SCHEMA", "Robert'); DROP"),
        ("METRICS_DEFAULT_TIMEZONE", "Mars/Olympus"),
        ("ANTRIAN_LOG_FORMAT", "xml"),
        ("DATABASE_URL", "mysql://x"),
        ("METRICS_PROCESSED_RETENTION_DAYS", "a month"),
        ("METRICS_PROCESSED_RETENTION_DAYS", "7"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_secrets_never_printed() -> None:
    settings = Settings.from_env({"DATABASE_URL": "postgresql://u:hunter2@db/x"})
    assert "hunter2" not in repr(settings)
    with pytest.raises(SettingsError) as info:
        Settings.from_env({"DATABASE_URL": "mysql://u:hunter2@db/x"})
    assert "hunter2" not in str(info.value)
