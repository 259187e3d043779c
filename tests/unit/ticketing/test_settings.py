"""Settings come from the environment, fail loudly by name, and never print the secret."""

import pytest

from services.ticketing.settings import Settings, SettingsError


def test_defaults() -> None:
    s = Settings.from_env({})
    assert (s.port, s.db_schema, s.events_topic, s.relay_enabled) == (8080, "ticketing", "queue.events", True)
    assert s.kafka_bootstrap_servers == "localhost:9092"


def test_housekeeping_runs_every_minute_unless_turned_off() -> None:
    default = Settings.from_env({})
    assert (default.housekeeping_enabled, default.housekeeping_interval_seconds) == (True, 60)
    off = Settings.from_env({"TICKETING_HOUSEKEEPING": "0", "TICKETING_HOUSEKEEPING_INTERVAL": "15"})
    assert (off.housekeeping_enabled, off.housekeeping_interval_seconds) == (False, 15)


def test_reads_everything() -> None:
    s = Settings.from_env(
        {
            "TICKETING_PORT": "9000",
            "TICKETING_DB_SCHEMA": "test_abc",
            "ANTRIAN_EVENTS_TOPIC": "t.events",
            "TICKETING_RELAY": "0",
            "ANTRIAN_ADMIN_PASSWORD": "s3cret-value",
            "TICKETING_TOKEN_TTL_SECONDS": "600",
        }
    )
    assert (s.port, s.db_schema, s.events_topic, s.relay_enabled, s.token_ttl_seconds) == (
        9000, "test_abc", "t.events", False, 600,
    )  # fmt: skip
    assert "s3cret-value" not in repr(s)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TICKETING_PORT", "eighty"),
        ("TICKETING_PORT", "70000"),
        ("TICKETING_DB_SCHEMA", "Robert'); DROP"),
        ("TICKETING_RELAY", "maybe"),
        ("TICKETING_HOUSEKEEPING", "sometimes"),
        ("TICKETING_HOUSEKEEPING_INTERVAL", "0"),
        ("TICKETING_HOUSEKEEPING_INTERVAL", "a minute"),
        ("TICKETING_TOKEN_TTL_SECONDS", "5"),
        ("ANTRIAN_LOG_FORMAT", "xml"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})
