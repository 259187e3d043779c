"""The dead-letter vocabulary: one header set, bounded details, reasons every consumer shares."""

from __future__ import annotations

from services.platform.dlq import MAX_DETAIL_CHARS, Reason, dlq_headers, header, source_of


def test_the_header_set_names_reason_detail_source_consumer_and_size() -> None:
    headers = dlq_headers(
        Reason.MALFORMED, "é" * 2000, source_of("queue.events", 3, 42), "display", 1_048_480, truncated=True
    )
    assert [name for name, _ in headers] == [
        "dlq-reason", "dlq-detail", "dlq-source", "dlq-consumer", "dlq-original-bytes", "dlq-truncated",
    ]  # fmt: skip
    assert header(headers, "dlq-reason") == "malformed"
    assert header(headers, "dlq-source") == "queue.events/3/42"
    assert header(headers, "dlq-consumer") == "display"
    assert header(headers, "dlq-original-bytes") == "1048480"
    assert header(headers, "dlq-truncated") == "true"
    assert len(header(headers, "dlq-detail") or "") == MAX_DETAIL_CHARS
    assert header(headers, "absent") is None
    assert header(None, "dlq-reason") is None


def test_the_reasons_are_the_ones_both_consumers_emit() -> None:
    assert {r.value for r in Reason} >= {
        "malformed",
        "unknown_type",
        "invalid_data",
        "unstorable",
        "internal_error",
    }
