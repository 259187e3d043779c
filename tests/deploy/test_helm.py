"""The Helm chart (deploy/helm/antrian): lint, render, validate, and agree with the services.

``helm lint`` and ``helm template`` run for the default and the production
values; every built-in resource is validated against the Kubernetes schemas
(kubernetes-validate, offline); the operators' resources (Strimzi,
CloudNativePG, Prometheus Operator) are checked for what Antrian relies on.
Probes, ports, environment variables and topic settings are compared with
the services' own settings and with docs/operations.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from services.display.settings import Settings as DisplaySettings
from services.events.topics import DLQ_TOPIC, EVENTS_TOPIC
from services.metrics.settings import Settings as MetricsSettings
from services.ticketing.settings import Settings as TicketingSettings
from tests.deploy.helm import CHART, ROOT, VALUES, by_component, helm, helm_binary, of_kind, rendered
from tests.deploy.operations import SERVICES, documented_ports, documented_variables

pytestmark = pytest.mark.skipif(helm_binary() is None, reason="helm is not installed: `make helm` builds it")

BOTH = pytest.mark.parametrize("values", sorted(VALUES))
SETTINGS = {"ticketing": TicketingSettings, "display": DisplaySettings, "metrics": MetricsSettings}
# Resources of the operators the chart builds on; everything else is a built-in kind.
OPERATOR_GROUPS = ("kafka.strimzi.io/", "postgresql.cnpg.io/", "monitoring.coreos.com/")
# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest schemas shipped.
KUBERNETES_VERSIONS = ("1.27.0", kubernetes_validate.utils.latest_version())
# Set in the pod spec only to compose DATABASE_URL from the CloudNativePG owner's Secret.
COMPOSING_VARIABLES = {"DB_USER", "DB_PASSWORD"}
# Read by no service yet: the SCRAM credentials the production values hand each service.
SASL_VARIABLES = {
    "KAFKA_SECURITY_PROTOCOL",
    "KAFKA_SASL_MECHANISM",
    "KAFKA_SASL_USERNAME",
    "KAFKA_SASL_PASSWORD",
}


def _settings(service: str, env: dict[str, str]) -> Any:
    """The service's own settings, read from ``env`` as at its start-up (the one place that knows how)."""
    return SETTINGS[service].from_env(env)


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])


def _env(container: dict[str, Any]) -> dict[str, str]:
    """The container's environment, secrets replaced by a placeholder, $(VAR) expanded."""
    env: dict[str, str] = {}
    for item in container["env"]:
        value = item.get("value", "from-a-secret")
        for name, known in env.items():
            value = value.replace(f"$({name})", known)
        env[item["name"]] = value
    return env


@BOTH
def test_helm_lint_passes(values: str) -> None:
    done = helm("lint", str(CHART), "--strict", "-f", str(VALUES[values]))
    assert done.returncode == 0, done.stdout + done.stderr


@BOTH
def test_every_built_in_resource_validates_against_the_kubernetes_schemas(values: str) -> None:
    built_in = [doc for doc in rendered(values) if not doc["apiVersion"].startswith(OPERATOR_GROUPS)]
    assert {"Deployment", "Service", "PodDisruptionBudget", "Job", "Secret"} <= {d["kind"] for d in built_in}
    for doc in built_in:
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{doc['kind']} {doc['metadata']['name']} on Kubernetes {version}: {exc.message}")


@BOTH
def test_each_service_listens_where_its_settings_docs_and_service_say(values: str) -> None:
    ports = documented_ports()
    services = by_component(values, "Service")
    for name, deployment in by_component(values, "Deployment").items():
        container = _container(deployment)
        (port,) = container["ports"]
        settings = _settings(name, _env(container))
        assert port["containerPort"] == settings.port == ports[name], name
        assert port["name"] == "http"
        assert services[name]["spec"]["ports"][0]["port"] == ports[name]
        assert services[name]["spec"]["ports"][0]["targetPort"] == "http"
        assert container["args"] == [name]  # python -m services.<name>, through the image's entry point


@BOTH
def test_probes_use_healthz_for_liveness_and_readyz_for_readiness(values: str) -> None:
    for name, deployment in by_component(values, "Deployment").items():
        container = _container(deployment)
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}, name
        assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}, name
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}, name


@BOTH
def test_every_variable_a_service_gets_is_documented_for_that_service(values: str) -> None:
    documented = documented_variables()
    for name, deployment in by_component(values, "Deployment").items():
        for variable in _env(_container(deployment)):
            if variable in COMPOSING_VARIABLES or variable in SASL_VARIABLES:
                continue
            assert variable in documented, f"{name} gets {variable}, which docs/operations.md does not list"
            assert name in documented[variable].used_by, f"docs/operations.md: {variable} is not for {name}"


@BOTH
def test_the_services_settings_accept_the_chart_environment(values: str) -> None:
    for name, deployment in by_component(values, "Deployment").items():
        env = _env(_container(deployment))
        settings = _settings(name, env)
        assert settings.events_topic == EVENTS_TOPIC
        assert settings.kafka_bootstrap_servers == "antrian-kafka-kafka-bootstrap:9092"
        if name in ("ticketing", "metrics"):
            assert (
                settings.database_url == "postgresql://from-a-secret:from-a-secret@antrian-pg-rw:5432/antrian"
            )


def test_the_services_read_the_kafka_credentials_the_production_values_give_them() -> None:
    documented = documented_variables()
    for name, deployment in by_component("production", "Deployment").items():
        given = set(_env(_container(deployment))) & SASL_VARIABLES
        assert given == SASL_VARIABLES, name
        for variable in given:
            assert variable in documented, (name, variable)
            assert name in documented[variable].used_by, (name, variable)


@BOTH
def test_resources_spread_and_disruption_budgets(values: str) -> None:
    pdbs = by_component(values, "PodDisruptionBudget")
    hpas = by_component(values, "HorizontalPodAutoscaler")
    assert set(pdbs) == set(SERVICES)
    assert set(hpas) == {"ticketing", "display"}
    for name, deployment in by_component(values, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        container = _container(deployment)
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
        assert "memory" in container["resources"]["limits"], name
        keys = {c["topologyKey"] for c in pod["topologySpreadConstraints"]}
        assert keys == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}, name
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert pdbs[name]["spec"]["selector"]["matchLabels"] == selector
        if name in hpas:
            assert "replicas" not in deployment["spec"]
            assert hpas[name]["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]


@BOTH
def test_migrations_run_once_in_a_hook_job(values: str) -> None:
    (job,) = of_kind(values, "Job")
    annotations = job["metadata"]["annotations"]
    assert set(annotations["helm.sh/hook"].split(",")) == {"post-install", "pre-upgrade"}
    pod = job["spec"]["template"]["spec"]
    steps = [c["args"] for c in pod["initContainers"] + pod["containers"]]
    assert steps == [["ticketing", "migrate"], ["metrics", "migrate"]]
    assert pod["restartPolicy"] == "Never"


def test_the_topics_match_the_event_contract_and_the_local_stack() -> None:
    from deploy.local.ensure_topics import TOPICS

    topics = {t["spec"]["topicName"]: t["spec"] for t in of_kind("default", "KafkaTopic")}
    assert set(topics) == {EVENTS_TOPIC, DLQ_TOPIC}
    local = {name: (partitions, max_bytes) for name, partitions, max_bytes in TOPICS}
    assert topics[EVENTS_TOPIC]["partitions"] == local[EVENTS_TOPIC][0]
    for name, spec in topics.items():
        assert spec["replicas"] == 3
        assert spec["config"]["min.insync.replicas"] == 2
        assert spec["config"]["max.message.bytes"] == local[name][1]  # the limits the relay and DLQ keep to
    # docs/operations.md: metrics keeps its "already applied" marks longer than Kafka keeps events.
    (metrics,) = [d for d in of_kind("default", "Deployment") if d["metadata"]["name"].endswith("-metrics")]
    days = _settings("metrics", _env(_container(metrics))).processed_retention_days
    assert topics[EVENTS_TOPIC]["config"]["retention.ms"] < days * 86_400_000
    assert (
        topics[DLQ_TOPIC]["config"]["max.message.bytes"]
        >= topics[EVENTS_TOPIC]["config"]["max.message.bytes"]
    )


def test_kafka_is_three_kraft_nodes_replicated_twice_in_sync() -> None:
    (kafka,) = of_kind("default", "Kafka")
    (pool,) = of_kind("default", "KafkaNodePool")
    assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    assert kafka["metadata"]["annotations"]["strimzi.io/node-pools"] == "enabled"
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    assert pool["spec"]["replicas"] == 3
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    (peer,) = listener["networkPolicyPeers"]
    (deployment, *_) = of_kind("default", "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert peer["podSelector"]["matchLabels"].items() <= pod_labels.items()
    config = kafka["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == 3
    assert config["min.insync.replicas"] == 2
    assert config["auto.create.topics.enable"] is False


def test_in_production_only_ticketing_may_write_the_event_topic() -> None:
    (kafka,) = of_kind("production", "Kafka")
    assert kafka["spec"]["kafka"]["authorization"] == {"type": "simple"}
    assert all(li["authentication"]["type"] == "scram-sha-512" for li in kafka["spec"]["kafka"]["listeners"])
    writers = set()
    for user in of_kind("production", "KafkaUser"):
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"
        for acl in user["spec"]["authorization"]["acls"]:
            resource = acl["resource"]
            if (
                resource["type"] == "topic"
                and resource["name"] == EVENTS_TOPIC
                and "Write" in acl["operations"]
            ):
                writers.add(user["metadata"]["name"])
    assert writers == {"antrian-ticketing"}
    assert of_kind("default", "KafkaUser") == []


@BOTH
def test_postgres_is_a_three_instance_cluster_with_credentials_in_a_secret(values: str) -> None:
    (cluster,) = of_kind(values, "Cluster")
    assert cluster["spec"]["instances"] == 3
    secret_name = cluster["spec"]["bootstrap"]["initdb"]["secret"]["name"]
    secrets = {s["metadata"]["name"]: s for s in of_kind(values, "Secret")}
    assert secrets[secret_name]["type"] == "kubernetes.io/basic-auth"
    assert set(secrets[secret_name]["stringData"]) == {"username", "password"}
    assert secrets[secret_name]["stringData"]["username"] == cluster["spec"]["bootstrap"]["initdb"]["owner"]
    if values == "production":
        assert cluster["spec"]["backup"]["barmanObjectStore"]["destinationPath"].startswith("s3://")
        assert of_kind(values, "ScheduledBackup")


@BOTH
def test_the_display_ingress_carries_websockets(values: str) -> None:
    ingresses = by_component(values, "Ingress")
    if values == "default":
        assert ingresses == {}
        return
    assert set(ingresses) == {"ticketing", "display"}
    annotations = ingresses["display"]["metadata"]["annotations"]
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"]) >= 3600


def test_pod_monitors_name_the_jobs_the_alerts_and_dashboards_expect() -> None:
    prometheus = yaml.safe_load(
        (ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text(encoding="utf-8")
    )
    jobs = {c["job_name"] for c in prometheus["scrape_configs"] if c["job_name"].startswith("antrian-")}
    monitors = by_component("default", "PodMonitor")
    assert set(monitors) == set(SERVICES)
    named = set()
    for monitor in monitors.values():
        (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
        assert endpoint["port"] == "http"
        assert endpoint["path"] == "/metrics"
        named |= {r["replacement"] for r in endpoint["relabelings"] if r["targetLabel"] == "job"}
    assert named == jobs


def test_the_alert_rules_and_dashboards_are_the_repository_files() -> None:
    (rule,) = of_kind("default", "PrometheusRule")
    alerts = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text(encoding="utf-8"))
    assert rule["spec"] == alerts
    dashboards = {p.name: p for p in (ROOT / "deploy" / "grafana" / "dashboards").glob("*.json")}
    maps = [cm for cm in of_kind("default", "ConfigMap") if cm["metadata"]["labels"].get("grafana_dashboard")]
    assert len(maps) == len(dashboards) > 0
    for cm in maps:
        ((name, text),) = cm["data"].items()
        assert json.loads(text) == json.loads(dashboards[name].read_text(encoding="utf-8"))


def test_the_chart_ships_the_shared_files_by_link_not_by_copy() -> None:
    for link in (CHART / "files" / "dashboards", CHART / "files" / "alerts.yml"):
        assert link.is_symlink(), link
        assert link.resolve().is_relative_to(ROOT / "deploy"), link
    assert Path(CHART / "files" / "dashboards").resolve() == ROOT / "deploy" / "grafana" / "dashboards"
