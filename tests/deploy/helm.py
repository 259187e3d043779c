"""Render the Helm chart with the real ``helm`` binary (``make helm`` builds it)."""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "antrian"
# `go install` leaves Helm's built-in default (Kubernetes 1.20) in the binary: name a supported one.
KUBE_VERSION = "1.31.0"
VALUES = {"default": CHART / "values.yaml", "production": CHART / "values-production.yaml"}


def helm_binary() -> str | None:
    """``helm`` on PATH, else the one ``make helm`` puts in $GOBIN (default ~/go/bin)."""
    found = shutil.which("helm")
    if found:
        return found
    gobin = Path(os.environ.get("GOBIN") or Path.home() / "go" / "bin") / "helm"
    return str(gobin) if gobin.is_file() else None


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    """Run helm; the result, whatever its exit status."""
    binary = helm_binary()
    assert binary is not None, "helm is not installed (make helm)"
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=120, check=False)


@cache
def rendered(values: str) -> tuple[dict[str, Any], ...]:
    """Every resource ``helm template`` renders with the named values file."""
    args = ["template", "antrian", str(CHART), "--namespace", "hall", "--kube-version", KUBE_VERSION]
    if values != "default":
        args += ["-f", str(VALUES[values])]
    done = helm(*args)
    assert done.returncode == 0, done.stderr
    return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


def of_kind(values: str, kind: str) -> list[dict[str, Any]]:
    """The rendered resources of one kind."""
    return [doc for doc in rendered(values) if doc["kind"] == kind]


def by_component(values: str, kind: str) -> dict[str, dict[str, Any]]:
    """Resources of one kind keyed by their ``app.kubernetes.io/component`` label."""
    return {doc["metadata"]["labels"]["app.kubernetes.io/component"]: doc for doc in of_kind(values, kind)}
