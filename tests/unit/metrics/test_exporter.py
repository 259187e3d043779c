"""The exposition of stored aggregates: names, labels, cumulative buckets and live gauges."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from services.metrics.aggregates import WAIT_BUCKETS, CounterFact, labels
from services.metrics.exporter import HistogramRow, QueueRow, Snapshot, build_registry
from services.metrics.ikm import Tally

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)  # 11:00 WITA
TODAY = date(2026, 11, 28)


def _samples(snapshot: Snapshot) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    process = build_registry(lambda: NOW, lambda _branch: ZoneInfo("Asia/Makassar"))
    process.stored.latest = snapshot
    text = generate_latest(process.registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_counters_histograms_and_gauges() -> None:
    queue = labels(branch="bjb", agency="disdukcapil", service="ktp")
    buckets = [0] * (len(WAIT_BUCKETS) + 1)
    buckets[1], buckets[-1] = 2, 1  # two waits in (30, 60], one beyond 7200
    snapshot = Snapshot(
        totals=[("qms_tickets_issued_total", (*queue, ("channel", "kiosk")), 5.0)],
        histograms=[HistogramRow("qms_wait_seconds", queue, tuple(buckets), 8000.0, 3)],
        queues=[
            QueueRow("bjb", "disdukcapil", "ktp", TODAY, 2, NOW - timedelta(minutes=7)),
            # Yesterday's leftovers are not waiting today.
            QueueRow("bjb", "disdukcapil", "ktp", TODAY - timedelta(days=1), 4, NOW - timedelta(hours=20)),
            QueueRow("bjb", "bpjs", "jkn", None, 0, None),
            QueueRow("bjb", "bpjs", "bpjs-tk", TODAY - timedelta(days=1), 1, NOW - timedelta(hours=20)),
        ],
        counters=[
            CounterFact("bjb", "loket-1", "open", None, NOW - timedelta(seconds=30), 100.0),
            CounterFact("bjb", "loket-2", "closed", None, None, 40.0),
        ],
        surveys=[
            ("bjb", "disdukcapil", "loket-1", "2026-11", Tally.of([[4] * 9])),
            ("bjb", "bpjs", "loket-2", "2026-11", Tally.of([[1] * 9])),
            ("bjb", "bpjs", "loket-1", "2026-11", Tally.of([[3] * 9])),
            ("bjb", "bpjs", None, "2026-11", Tally.of([[2] * 9])),  # a ticket with no counter recorded
            ("bjb", "bpjs", "loket-2", "2026-10", Tally.of([[1] * 9] * 5)),  # last month: not exported
        ],
    )
    s = _samples(snapshot)
    q = tuple(sorted({"branch": "bjb", "agency": "disdukcapil", "service": "ktp"}.items()))
    assert s[("qms_tickets_issued_total", tuple(sorted((*queue, ("channel", "kiosk")))))] == 5.0
    assert s[("qms_wait_seconds_bucket", tuple(sorted((*q, ("le", "30.0")))))] == 0
    assert s[("qms_wait_seconds_bucket", tuple(sorted((*q, ("le", "60.0")))))] == 2
    assert s[("qms_wait_seconds_bucket", tuple(sorted((*q, ("le", "7200.0")))))] == 2
    assert s[("qms_wait_seconds_bucket", tuple(sorted((*q, ("le", "+Inf")))))] == 3
    assert s[("qms_wait_seconds_count", q)] == 3
    assert s[("qms_queue_waiting", q)] == 2
    assert s[("qms_oldest_waiting_seconds", q)] == 420.0
    empty = (("agency", "bpjs"), ("branch", "bjb"), ("service", "jkn"))
    assert s[("qms_queue_waiting", empty)] == 0
    assert s[("qms_oldest_waiting_seconds", empty)] == 0
    stale = (("agency", "bpjs"), ("branch", "bjb"), ("service", "bpjs-tk"))
    assert s[("qms_queue_waiting", stale)] == 0
    assert s[("qms_oldest_waiting_seconds", stale)] == 0
    assert s[("qms_counters_open", (("branch", "bjb"),))] == 1
    assert s[("qms_counter_idle_seconds_total", (("branch", "bjb"), ("counter", "loket-1")))] == 130.0
    assert s[("qms_counter_idle_seconds_total", (("branch", "bjb"), ("counter", "loket-2")))] == 40.0

    def ikm(name: str, agency: str = "all", counter: str = "all") -> float:
        return s[(name, (("agency", agency), ("branch", "bjb"), ("counter", counter)))]

    assert ikm("qms_ikm_score", agency="disdukcapil") == 100.0
    assert ikm("qms_ikm_score", agency="bpjs") == 50.0  # means of 1, 3, 2 → 2.0 each
    assert ikm("qms_ikm_responses", agency="bpjs") == 3
    # The whole branch: element means (4 + 1 + 3 + 2) / 4 = 2.5 each → 62.50.
    assert ikm("qms_ikm_score") == 62.5
    assert ikm("qms_ikm_responses") == 4
    # Per counter, whatever the agency: loket-1 (4 and 3) → 87.50, loket-2 (1) → 25.00.
    assert ikm("qms_ikm_score", counter="loket-1") == 87.5
    assert ikm("qms_ikm_responses", counter="loket-1") == 2
    assert ikm("qms_ikm_score", counter="loket-2") == 25.0
    assert not [k for k in s if k[0] == "qms_ikm_score" and ("counter", "") in k[1]]


def test_process_collectors_are_present() -> None:
    names = {name for name, _ in _samples(Snapshot())}
    assert "process_cpu_seconds_total" in names
    assert "python_info" in names
