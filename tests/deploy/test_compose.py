"""deploy/compose: one hall server, started in health order, with the Makefile's variables.

The smoke run with real containers is tests/containers (``make
test-containers``); these checks read the files and run promtool.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.local.ensure_topics import TOPICS
from tests.deploy.operations import SERVICES, documented_ports, documented_variables

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose"


class _Loader(yaml.SafeLoader):
    """Reads compose's !reset and !override tags as plain values."""


def _untagged(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


_Loader.add_multi_constructor("!", _untagged)


def _load(name: str) -> dict[str, Any]:
    return dict(yaml.load((COMPOSE / name).read_text(encoding="utf-8"), Loader=_Loader))


SPEC = _load("compose.yaml")
SVC = SPEC["services"]


def _condition(service: str, dependency: str) -> str:
    return str(SVC[service]["depends_on"][dependency]["condition"])


def test_the_hall_server_runs_kafka_postgres_our_services_prometheus_and_grafana() -> None:
    assert SVC["kafka"]["image"].startswith("apache/kafka:")
    assert SVC["postgres"]["image"] == "postgres:15"
    assert SVC["prometheus"]["image"].startswith("prom/prometheus:")
    assert SVC["grafana"]["image"].startswith("grafana/grafana:")
    for name in SERVICES:
        assert SVC[name]["command"] == [name]
        assert SVC[name]["build"]["dockerfile"] == "deploy/container/Containerfile"
    assert SVC["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    for name in ("postgres", "kafka", "prometheus", "grafana"):
        volume = next(v.split(":")[0] for v in SVC[name]["volumes"] if not v.startswith("."))
        assert volume in SPEC["volumes"], name


def test_start_up_follows_health() -> None:
    assert _condition("kafka-topics", "kafka") == "service_healthy"
    assert _condition("migrate", "postgres") == "service_healthy"
    assert _condition("ticketing", "postgres") == "service_healthy"
    assert _condition("ticketing", "kafka-topics") == "service_completed_successfully"
    assert _condition("ticketing", "migrate") == "service_completed_successfully"
    for name in ("display", "metrics"):
        assert _condition(name, "ticketing") == "service_healthy"
        assert _condition(name, "kafka-topics") == "service_completed_successfully"
    for name in ("postgres", "kafka", "prometheus"):
        assert SVC[name]["healthcheck"]["test"], name
    assert SVC["migrate"]["command"] == ["ticketing", "migrate"]


def test_the_topics_are_created_as_the_local_stack_creates_them() -> None:
    script = " ".join(SVC["kafka-topics"]["command"])
    for topic, partitions, max_bytes in TOPICS:
        assert re.search(rf"--topic {re.escape(topic)} --partitions {partitions}\b", script), topic
        assert re.search(
            rf"--topic {re.escape(topic)} .*?--config max.message.bytes={max_bytes}\b", script
        ), topic


def test_the_services_get_the_makefile_variables_and_only_documented_ones() -> None:
    documented = documented_variables()
    ports = documented_ports()
    stack = (ROOT / "deploy" / "local" / "stack.sh").read_text(encoding="utf-8")
    for name in SERVICES:
        env = SVC[name]["environment"]
        for variable in env:
            assert variable in documented, (name, variable)
            assert name in documented[variable].used_by, (name, variable)
        assert env[f"{name.upper()}_PORT"] == str(ports[name])
        assert SVC[name]["ports"] == [f"${{{name.upper()}_PORT:-{ports[name]}}}:{ports[name]}"]
        assert "KAFKA_BOOTSTRAP_SERVERS" in env
    # What stack.sh exports for the services (besides the ports), compose sets too.
    exported = set(re.findall(r"^\s*export ([A-Z_]+)", stack, re.M))
    exported |= set(re.findall(r"^export ([A-Z_]+)=", stack, re.M))
    assert {"KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "ANTRIAN_ADMIN_PASSWORD"} <= exported
    assert {"DATABASE_URL", "ANTRIAN_ADMIN_PASSWORD"} <= set(SVC["ticketing"]["environment"])
    assert "DATABASE_URL" in SVC["metrics"]["environment"]
    for name in SERVICES:
        assert SVC[name]["environment"]["ANTRIAN_LOG_FORMAT"] == "json"  # what stack.sh starts them with
    assert SVC["display"]["environment"]["DISPLAY_TICKETING_URL"] == "http://ticketing:8080"
    assert "METRICS_TICKETING_URL" not in SVC["metrics"]["environment"]  # metrics never calls ticketing


def test_secrets_come_from_the_env_file_never_from_the_compose_file() -> None:
    text = (COMPOSE / "compose.yaml").read_text(encoding="utf-8")
    for variable in ("POSTGRES_PASSWORD", "ANTRIAN_ADMIN_PASSWORD", "GRAFANA_ADMIN_PASSWORD"):
        assert re.search(rf"\$\{{{variable}:\?", text), variable
        assert re.search(rf"^{variable}=$", (COMPOSE / "env.example").read_text(encoding="utf-8"), re.M)
    assert ".env" in (COMPOSE / ".gitignore").read_text(encoding="utf-8").split()


def test_prometheus_scrapes_the_compose_services_with_the_repository_rules(tmp_path: Path) -> None:
    local = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    ours = yaml.safe_load((COMPOSE / "prometheus.yml").read_text(encoding="utf-8"))
    ports = documented_ports()
    assert [c["job_name"] for c in ours["scrape_configs"]] == [c["job_name"] for c in local["scrape_configs"]]
    for config in ours["scrape_configs"]:
        if config["job_name"].startswith("antrian-"):
            name = config["job_name"].removeprefix("antrian-")
            assert config["static_configs"][0]["targets"] == [f"{name}:{ports[name]}"]
    mounts = SVC["prometheus"]["volumes"]
    assert "../prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in mounts
    assert ours["rule_files"] == ["alerts.yml"]
    if shutil.which("promtool") is None:
        pytest.skip("promtool is not installed (make test installs it)")
    shutil.copy(COMPOSE / "prometheus.yml", tmp_path / "prometheus.yml")
    shutil.copy(ROOT / "deploy" / "prometheus" / "alerts.yml", tmp_path / "alerts.yml")
    done = subprocess.run(
        ["promtool", "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_grafana_gets_the_repository_dashboards_and_a_datasource_named_as_they_expect() -> None:
    mounts = SVC["grafana"]["volumes"]
    provider = yaml.safe_load(
        (ROOT / "deploy" / "grafana" / "provisioning" / "dashboards" / "antrian.yml").read_text(
            encoding="utf-8"
        )
    )
    path = provider["providers"][0]["options"]["path"]
    assert f"../grafana/dashboards:{path}:ro" in mounts
    source = yaml.safe_load((COMPOSE / "grafana-datasource.yml").read_text(encoding="utf-8"))
    (datasource,) = source["datasources"]
    assert datasource["uid"] == "prometheus"
    assert datasource["url"] == "http://prometheus:9090"


def test_the_smoke_override_runs_only_our_services_on_the_host_network() -> None:
    smoke = _load("compose.smoke.yaml")
    assert set(smoke["services"]) == {"migrate", *SERVICES}
    for name, service in smoke["services"].items():
        assert service["network_mode"] == "host", name


def _compose_config(env_file: Path | None) -> subprocess.CompletedProcess[str]:
    args = [str(Path(sys.executable).with_name("podman-compose"))]
    if env_file is not None:
        args += ["--env-file", str(env_file)]
    env = {k: v for k, v in os.environ.items() if not k.endswith("_PASSWORD")}
    return subprocess.run(
        [*args, "-f", "compose.yaml", "config"],
        cwd=COMPOSE, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.skipif(
    shutil.which("podman") is None, reason="podman-compose needs podman (make test-containers)"
)
def test_compose_resolves_with_the_env_file_and_refuses_without_it(tmp_path: Path) -> None:
    example = (COMPOSE / "env.example").read_text(encoding="utf-8")
    env_file = tmp_path / ".env"
    env_file.write_text(
        re.sub(r"^([A-Z_]+_PASSWORD)=$", r"\1=secret\1", example, flags=re.M), encoding="utf-8"
    )
    done = _compose_config(env_file)
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)["services"]
    url = "postgresql://antrian:secretPOSTGRES_PASSWORD@postgres:5432/antrian"
    assert resolved["ticketing"]["environment"]["DATABASE_URL"] == url
    assert resolved["migrate"]["environment"]["ANTRIAN_ADMIN_PASSWORD"] == "secretANTRIAN_ADMIN_PASSWORD"
    refused = _compose_config(None)
    assert refused.returncode != 0
    assert "copy env.example to .env" in refused.stderr
