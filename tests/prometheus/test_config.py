"""The Prometheus config, alert rules and Grafana files are valid and name real metrics.

promtool (Debian's ``prometheus`` package) checks the config and the rules and
runs the alert unit tests in deploy/prometheus/alerts_test.yml; the dashboards
are checked for what Grafana needs to import them and for metric names that
exist in the design's fixed list.
"""

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.prometheus.queries import (
    ALERTS,
    PROMETHEUS,
    ROOT,
    alert_queries,
    alert_rules,
    dashboards,
    panel_queries,
    panels,
    variable_queries,
)

PROMTOOL = "/usr/bin/promtool"
GRAFANA = ROOT / "deploy" / "grafana"

_HISTOGRAMS = {
    "qms_wait_seconds", "qms_walk_seconds", "qms_service_seconds", "qms_wait_estimate_error_seconds",
    "qms_event_lag_seconds", "qms_http_request_duration_seconds", "qms_display_event_lag_seconds",
    "qms_slot_punctuality_seconds",
}  # fmt: skip
_OTHERS = {
    "qms_tickets_issued_total", "qms_tickets_called_total", "qms_tickets_recalled_total",
    "qms_tickets_completed_total", "qms_tickets_no_show_total", "qms_tickets_transferred_total",
    "qms_tickets_cancelled_total", "qms_counter_idle_seconds_total", "qms_events_processed_total",
    "qms_events_dead_lettered_total", "qms_outbox_published_total", "qms_outbox_publish_errors_total",
    "qms_housekeeping_errors_total", "qms_day_closed_tickets_total", "qms_consumer_stuck_seconds",
    "qms_display_messages_sent_total", "qms_display_clients_dropped_total", "qms_queue_waiting",
    "qms_counters_open", "qms_oldest_waiting_seconds", "qms_consumer_lag", "qms_ikm_score",
    "qms_ikm_responses", "qms_outbox_backlog", "qms_display_connections", "qms_display_consumer_lag",
    "qms_appointments_total", "up", "process_resident_memory_bytes", "process_cpu_seconds_total",
}  # fmt: skip
KNOWN_METRICS = _OTHERS | {f"{h}_{s}" for h in _HISTOGRAMS for s in ("bucket", "sum", "count")}
DASHBOARD_TITLES = {"Hall today", "Counters and operators", "Service levels and IKM", "System health"}


def _promtool(*args: str) -> str:
    done = subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"promtool {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.prometheus
def test_promtool_accepts_the_config() -> None:
    assert "SUCCESS" in _promtool("check", "config", str(PROMETHEUS / "prometheus.yml"))


@pytest.mark.prometheus
def test_promtool_accepts_the_alert_rules() -> None:
    out = _promtool("check", "rules", str(ALERTS))
    assert f"SUCCESS: {len(alert_rules())} rules found" in out


@pytest.mark.prometheus
def test_the_alerts_fire_in_promtool_unit_tests() -> None:
    assert "SUCCESS" in _promtool("test", "rules", str(PROMETHEUS / "alerts_test.yml"))


def test_prometheus_scrapes_the_three_services_under_their_job_names() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert jobs["antrian-ticketing"] == ["127.0.0.1:8080"]
    assert jobs["antrian-display"] == ["127.0.0.1:8081"]
    assert jobs["antrian-metrics"] == ["127.0.0.1:8082"]
    assert config["rule_files"] == ["alerts.yml"]
    for job in config["scrape_configs"]:  # a target label "service" would shadow the metric label
        for static in job["static_configs"]:
            assert not set(static.get("labels", {})) & {"branch", "agency", "service", "counter", "channel"}


def test_every_alert_has_for_severity_and_bilingual_summary() -> None:
    for rule in alert_rules():
        assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert " / " in rule["annotations"]["summary"], "summary: Indonesian / English"
        assert rule["annotations"]["description"]
    covered = {m for q in alert_queries() for m in q.metrics}
    needed = {
        "qms_wait_seconds_bucket",
        "qms_oldest_waiting_seconds",
        "qms_outbox_backlog",
        "qms_consumer_lag",
    }
    assert needed | {"up", "qms_event_lag_seconds_bucket", "qms_display_consumer_lag"} <= covered


def test_every_alert_compares_an_expression_with_a_threshold() -> None:
    for rule, query in zip(alert_rules(), alert_queries(), strict=True):
        assert query.expr != rule["expr"], f"{rule['alert']} has no top-level comparison"
        assert query.metrics, rule["alert"]


def test_the_four_dashboards_import_into_grafana() -> None:
    boards = dashboards()
    assert {b["title"].split("— ")[1].split(" (")[0] for b in boards} == DASHBOARD_TITLES
    assert len({b["uid"] for b in boards}) == len(boards)
    for board in boards:
        assert isinstance(board["schemaVersion"], int)
        assert board["schemaVersion"] >= 36
        assert len(board["uid"]) <= 40
        names = [v["name"] for v in board["templating"]["list"]]
        assert names[0] == "branch"
        branch = board["templating"]["list"][0]
        assert branch["query"]["query"] == "label_values(qms_tickets_issued_total, branch)"
        ids = [p["id"] for p in panels(board)]
        assert len(ids) == len(set(ids)), board["uid"]
        for panel in panels(board):
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24
            if panel["type"] == "row":
                continue
            assert panel["datasource"] == {"type": "prometheus", "uid": "prometheus"}
            assert panel["targets"], panel["title"]
            for target in panel["targets"]:
                assert target["expr"].strip()
                assert target["datasource"]["uid"] == "prometheus"


def test_dashboards_name_only_metrics_of_the_design() -> None:
    queries = panel_queries()
    assert len(queries) > 40
    for query in queries:
        assert query.metrics, query.origin
        unknown = query.metrics - KNOWN_METRICS
        assert not unknown, f"{query.origin}: {sorted(unknown)}"
    for origin, selector, _ in variable_queries():
        assert selector.split("{")[0] in KNOWN_METRICS, origin


def test_every_metric_of_the_design_is_on_a_dashboard() -> None:
    shown = {m.removesuffix("_bucket") for q in panel_queries() for m in q.metrics}
    design = {m for m in _OTHERS if m.startswith("qms_")} | _HISTOGRAMS
    assert design - shown == set()


def test_grafana_provisioning_points_at_the_dashboards_and_datasource() -> None:
    source = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    assert [(d["uid"], d["type"]) for d in source["datasources"]] == [("prometheus", "prometheus")]
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "antrian.yml").read_text())
    assert provider["providers"][0]["type"] == "file"
    assert Path(GRAFANA / "dashboards").is_dir()
