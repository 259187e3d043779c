"""Pure helpers of the display's edges: settings, websocket paths, DLQ reasons, rebuild start."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.display.audio import audio_id
from services.display.consumer import dlq_reason, rebuild_start
from services.display.errors import AudioError, ScreenError, SequenceGapError, SettingsError
from services.display.hub import parse_target, problem_response
from services.display.server import Gate
from services.display.settings import Settings
from services.events import EventError, InvalidDataError, MalformedEventError, UnknownEventTypeError

ZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")


def test_settings_defaults_follow_the_design() -> None:
    s = Settings.from_env({})
    assert (s.port, s.host, s.events_topic, s.dlq_topic) == (
        8081,
        "0.0.0.0",
        "queue.events",
        "queue.events.dlq",
    )
    assert s.ticketing_url == "http://127.0.0.1:8080"
    assert s.default_timezone == "Asia/Makassar"
    assert s.audio_cache == Path(".run/audio")
    assert s.allowed_origins == ()


def test_settings_read_the_environment() -> None:
    s = Settings.from_env(
        {
            "DISPLAY_PORT": "9000",
            "ANTRIAN_EVENTS_TOPIC": "t1",
            "DISPLAY_ALLOWED_ORIGINS": "http://a.local, http://b.local",
            "DISPLAY_TICKETING_URL": "http://tix:8080/",
            "DISPLAY_DEFAULT_TIMEZONE": "Asia/Jayapura",
        }
    )
    assert (s.port, s.events_topic, s.ticketing_url) == (9000, "t1", "http://tix:8080")
    assert s.allowed_origins == ("http://a.local", "http://b.local")
    assert s.default_timezone == "Asia/Jayapura"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DISPLAY_PORT": "eighty"}, "DISPLAY_PORT"),
        ({"DISPLAY_PORT": "70000"}, "DISPLAY_PORT"),
        ({"DISPLAY_DEFAULT_TIMEZONE": "Mars/Olympus"}, "DISPLAY_DEFAULT_TIMEZONE"),
        ({"DISPLAY_TICKETING_URL": "ftp://x"}, "DISPLAY_TICKETING_URL"),
        ({"ANTRIAN_LOG_FORMAT": "xml"}, "ANTRIAN_LOG_FORMAT"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/ws/bjb", ("bjb", None)),
        ("/ws/bjb?zone=lantai-2", ("bjb", "lantai-2")),
        ("/ws/mpp.banjarbaru_1?zone=a&zone=b", ("mpp.banjarbaru_1", "a")),
        ("/ws/", None),
        ("/ws/bjb/extra", None),
        ("/ws/b%20b", None),
        ("/ws/bjb?zone=" + "z" * 65, None),
        ("/ws/bjb?zone=%3Cscript%3E", None),
        ("/elsewhere/bjb", None),
    ],
)
def test_websocket_paths(path: str, target: tuple[str, str | None] | None) -> None:
    assert parse_target(path) == target


def test_refused_handshakes_are_problem_details() -> None:
    response = problem_response(503, "Service Unavailable", "rebuilding")
    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/problem+json"
    assert b'"status": 503' in response.body


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (MalformedEventError("not JSON: Expecting value"), "malformed"),
        (MalformedEventError("an event must be a JSON object"), "malformed"),
        (EventError("not JSON, says the text; the type decides"), "invalid_event"),
        (InvalidDataError("data.counter_id: Field required"), "invalid_data"),
        (UnknownEventTypeError("unknown event type: 'x'"), "unknown_type"),
        (EventError("missing attribute(s): id"), "invalid_event"),
        (ScreenError("data.counter_id is required"), "invalid_data"),
    ],
)
def test_dlq_reasons_are_short_codes(exc: Exception, reason: str) -> None:
    assert dlq_reason(exc) == reason


def test_rebuild_starts_at_the_earliest_current_midnight() -> None:
    # 10:00 UTC: every zone is on the 28th; Jayapura's midnight (15:00 UTC the day before) is earliest.
    assert rebuild_start(datetime(2026, 11, 28, 10, 0, tzinfo=UTC), ZONES) == datetime(
        2026, 11, 27, 15, 0, tzinfo=UTC
    )
    # 16:00 UTC: Jayapura is already on the 29th, Jakarta still on the 28th since 17:00 UTC on the 27th.
    assert rebuild_start(datetime(2026, 11, 28, 16, 0, tzinfo=UTC), ZONES) == datetime(
        2026, 11, 27, 17, 0, tzinfo=UTC
    )


def test_audio_ids_are_stable_and_short() -> None:
    assert audio_id("Nomor antrian A satu") == audio_id("Nomor antrian A satu")
    assert audio_id("a") != audio_id("b")
    assert len(audio_id("x")) == 24


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (AudioError("announcement longer than 300 characters"), "unprocessable"),
        (RuntimeError("a bug met by one event"), "internal_error"),
    ],
)
def test_any_failure_of_one_event_has_a_dlq_reason(exc: Exception, reason: str) -> None:
    assert dlq_reason(exc) == reason


def test_the_partition_check_interval_is_a_setting() -> None:
    assert Settings.from_env({}).partition_check_seconds == 30
    assert Settings.from_env({"DISPLAY_PARTITION_CHECK": "5"}).partition_check_seconds == 5
    with pytest.raises(SettingsError, match="DISPLAY_PARTITION_CHECK"):
        Settings.from_env({"DISPLAY_PARTITION_CHECK": "0"})


def test_the_edge_limits_are_settings() -> None:
    s = Settings.from_env({})
    assert (s.idle_timeout_seconds, s.max_connections, s.max_connections_per_address) == (10, 10000, 64)
    s = Settings.from_env(
        {
            "DISPLAY_IDLE_TIMEOUT": "60",
            "DISPLAY_MAX_CONNECTIONS": "5",
            "DISPLAY_MAX_CONNECTIONS_PER_ADDRESS": "2",
        }
    )
    assert (s.idle_timeout_seconds, s.max_connections, s.max_connections_per_address) == (60, 5, 2)
    with pytest.raises(SettingsError, match="DISPLAY_MAX_CONNECTIONS_PER_ADDRESS"):
        Settings.from_env({"DISPLAY_MAX_CONNECTIONS_PER_ADDRESS": "0"})


@pytest.mark.parametrize(
    ("origin", "host", "allowed", "expected"),
    [
        ("http://hall.local:8081", "hall.local:8081", (), True),  # the page's own origin
        ("https://evil.example", "hall.local:8081", (), False),
        ("http://hall.local:9999", "hall.local:8081", (), False),
        ("null", "hall.local:8081", (), False),
        ("https://evil.example", None, (), False),
        ("https://signage.example", "hall.local:8081", ("https://signage.example",), True),
        ("https://evil.example", "hall.local:8081", ("*",), True),
    ],
)
def test_websocket_origins_are_the_displays_own_unless_configured(
    origin: str, host: str | None, allowed: tuple[str, ...], expected: bool
) -> None:
    gate = Gate(Settings(allowed_origins=allowed))
    assert gate.origin_allowed(origin, host) is expected


def test_the_sequence_gap_has_its_own_dlq_reason() -> None:
    assert dlq_reason(SequenceGapError("sequence 999999999 does not follow 15")) == "sequence_gap"
