"""The log format with bound context, the outage log's one line per change, and the back-off."""

from __future__ import annotations

import json
import logging
import random

import pytest

from services.platform.backoff import Backoff
from services.platform.logs import JsonFormatter, TextFormatter, bind, context
from services.platform.outage import OutageLog


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("services.x", logging.WARNING, __file__, 1, message, None, None)


def test_json_lines_carry_the_bound_context_and_nothing_after_the_block() -> None:
    formatter = JsonFormatter("ticketing")
    with bind(branch="bjb", ticket="t1", counter=None), bind(request_id="r9"):
        line = json.loads(formatter.format(_record("called")))
        assert context() == {"branch": "bjb", "ticket": "t1", "request_id": "r9"}
    assert line["message"] == "called"
    assert (line["service"], line["level"], line["branch"], line["ticket"], line["request_id"]) == (
        "ticketing", "warning", "bjb", "t1", "r9",
    )  # fmt: skip
    assert "counter" not in line
    assert "branch" not in json.loads(formatter.format(_record("later")))


def test_text_lines_append_the_context() -> None:
    with bind(branch="bjb"):
        assert TextFormatter().format(_record("hello")).endswith("hello branch=bjb")


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_outage_logs_one_line_per_change_and_a_summary_per_period(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = _Clock()
    outage = OutageLog(logging.getLogger("t.outage"), "Kafka", summary_seconds=60, clock=clock)
    with caplog.at_level(logging.INFO, "t.outage"):
        for _ in range(3800):  # 76 s of retries every 20 ms
            outage.failed("connection refused")
            clock.now += 0.02
        outage.recovered()
        outage.recovered()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 3
    assert messages[0] == "Kafka is down: connection refused"
    assert messages[1].startswith("Kafka still down after 60 s")
    assert messages[2].startswith("Kafka is back after 76 s (3800 failed attempts)")
    assert not outage.down


def test_backoff_doubles_with_jitter_up_to_the_ceiling_and_resets() -> None:
    backoff = Backoff(0.5, 4.0, rng=random.Random(7))
    delays = [backoff.next() for _ in range(6)]
    for delay, ceiling in zip(delays, (0.5, 1.0, 2.0, 4.0, 4.0, 4.0), strict=True):
        assert ceiling / 2 <= delay <= ceiling
    assert len(set(delays)) == len(delays)  # jittered, not in step
    backoff.reset()
    assert backoff.next() <= 0.5
    with pytest.raises(ValueError, match="initial"):
        Backoff(0, 1)
