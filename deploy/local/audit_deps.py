"""`pip-audit` over the pinned dependencies (run by `make lint`).

Usage: python deploy/local/audit_deps.py
Audits the pins of pyproject.toml and of the image's lock, deploy/container/requirements.txt.
Exits 1 when a pinned package has a known advisory that is not in IGNORED.

pip-audit asks PyPI for each release (`/pypi/NAME/VERSION/json`). Where that
endpoint is not served (the machines this project is built on reach a PyPI
mirror that answers only `/pypi/NAME/json`, so pip-audit reports every package
as "not found"), the packages pip-audit could not audit are looked up in the
project endpoint instead: its `vulnerabilities` are the advisories of the latest
release, so they are the advisories of our pin exactly when the pin is the
latest release. A pin behind the latest release cannot be audited that way; it
is named, with the release it is behind, and counted as not audited. Nothing is
passed off as clean: the summary says how many pins were audited and how.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Advisory id -> why it does not apply to Antrian. Each entry needs its reason.
IGNORED: dict[str, str] = {}


def pinned() -> list[str]:
    """The exact pins of the runtime and dev dependencies, and of the image's lock (transitive ones too)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    loose = [p for p in pins if "==" not in p]
    if loose:
        raise SystemExit(f"not pinned exactly: {', '.join(loose)}")
    lock = (ROOT / "deploy" / "container" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    seen = {canonical(pin.split("==")[0]) for pin in pins}
    for line in (line.strip() for line in lock):
        if line and not line.startswith("#") and canonical(line.split("==")[0]) not in seen:
            pins.append(line)
            seen.add(canonical(line.split("==")[0]))
    return pins


def audit(pins: list[str]) -> dict[str, object]:
    """pip-audit's JSON report for ``pins`` alone (they are exact: no resolution, no install)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8") as requirements:
        requirements.write("\n".join(pins) + "\n")
        requirements.flush()
        ignores = [arg for vuln in IGNORED for arg in ("--ignore-vuln", vuln)]
        result = subprocess.run(  # noqa: S603 - our own venv's pip-audit, fixed arguments
            [sys.executable, "-m", "pip_audit", "--no-deps", "--disable-pip", "--progress-spinner", "off",
             "--format", "json", "-r", requirements.name, *ignores],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    if not result.stdout.strip():
        raise SystemExit(f"pip-audit failed:\n{result.stderr}")
    report: dict[str, object] = json.loads(result.stdout)
    return report


@dataclass(frozen=True)
class LatestAudit:
    """What PyPI's project endpoint says of one pin."""

    audited: bool  # the pin is the latest release, so the advisories below are the pin's
    latest: str
    advisories: tuple[str, ...]  # ids not withdrawn and not in IGNORED


def latest_release_advisories(version: str, project: dict[str, object]) -> LatestAudit:
    """Read `/pypi/NAME/json` for the pin ``version``: its advisories hold only for the latest release."""
    info = project.get("info")
    latest = str(info.get("version", "")) if isinstance(info, dict) else ""
    if latest != version:
        return LatestAudit(audited=False, latest=latest, advisories=())
    listed = project.get("vulnerabilities")
    if not isinstance(listed, list):  # no such key: the endpoint cannot answer for advisories
        return LatestAudit(audited=False, latest=latest, advisories=())
    found = []
    for vuln in listed:
        names = {str(vuln.get("id")), *map(str, vuln.get("aliases") or ())}
        if vuln.get("withdrawn") or names & IGNORED.keys():
            continue
        found.append(str(vuln.get("id")))
    return LatestAudit(audited=True, latest=latest, advisories=tuple(found))


def project_json(name: str) -> dict[str, object] | None:
    """PyPI's project endpoint for ``name``, or None when it cannot be reached."""
    url = f"https://pypi.org/pypi/{name}/json"
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            data: dict[str, object] = json.load(answer)
    except (urllib.error.URLError, TimeoutError, ValueError):
        return None
    return data


def canonical(name: str) -> str:
    """A project name as PyPI compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def main() -> None:
    pins = pinned()
    versions = {canonical(name): version for name, version in (pin.split("==") for pin in pins)}
    dependencies = audit(pins)["dependencies"]
    assert isinstance(dependencies, list)
    found = [f"{d['name']} {d['version']}: {v['id']}" for d in dependencies for v in d.get("vulns", [])]
    by_pip_audit = sum(1 for d in dependencies if "skip_reason" not in d)
    by_project, behind = 0, []
    for name in (str(d["name"]) for d in dependencies if "skip_reason" in d):
        version = versions[canonical(name)]
        project = project_json(name)
        result = latest_release_advisories(version, project) if project else None
        if result is None or not result.audited:
            latest = f"latest is {result.latest}" if result else "PyPI not reached"
            behind.append(f"{name} {version} ({latest})")
            continue
        by_project += 1
        found += [f"{name} {version}: {vuln}" for vuln in result.advisories]
    for line in found:
        print(f"pip-audit: {line}", file=sys.stderr)  # noqa: T201
    if behind:
        print(f"pip-audit: not audited: {', '.join(behind)}", file=sys.stderr)  # noqa: T201
    print(  # noqa: T201
        f"pip-audit: {by_pip_audit + by_project} of {len(dependencies)} pinned packages audited "
        f"({by_pip_audit} by pip-audit, {by_project} from PyPI's latest-release advisories), "
        f"{len(found)} advisories, {len(IGNORED)} ignored",
        file=sys.stderr,
    )
    if found:
        sys.exit(1)


if __name__ == "__main__":
    main()
