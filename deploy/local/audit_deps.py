"""`pip-audit` over the dependencies pinned in pyproject.toml (run by `make lint`).

Usage: python deploy/local/audit_deps.py
Exits 1 when a pinned package has a known advisory that is not in IGNORED.
When the vulnerability service cannot be reached, pip-audit reports every
package as "not found" and finds nothing; that is said plainly and the audit is
skipped (exit 0) rather than passed off as clean or failing the lint offline.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Advisory id -> why it does not apply to Antrian. Each entry needs its reason.
IGNORED: dict[str, str] = {}


def pinned() -> list[str]:
    """The exact pins of the runtime and dev dependencies."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    loose = [p for p in pins if "==" not in p]
    if loose:
        raise SystemExit(f"not pinned exactly: {', '.join(loose)}")
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


def main() -> None:
    pins = pinned()
    dependencies = audit(pins)["dependencies"]
    assert isinstance(dependencies, list)
    audited = [d for d in dependencies if "skip_reason" not in d]
    if not audited:
        reasons = sorted({str(d["skip_reason"]).split(":")[0] for d in dependencies})
        print(  # noqa: T201
            f"pip-audit: SKIPPED - the vulnerability service could not be reached from this machine "
            f"({'; '.join(reasons)} for all {len(dependencies)} pinned packages); nothing was audited",
            file=sys.stderr,
        )
        return
    found = [(d["name"], d["version"], v["id"]) for d in audited for v in d.get("vulns", [])]
    for name, version, vuln in found:
        print(f"pip-audit: {name} {version}: {vuln}", file=sys.stderr)  # noqa: T201
    skipped = len(dependencies) - len(audited)
    print(  # noqa: T201
        f"pip-audit: {len(audited)} pinned packages audited ({skipped} could not be), "
        f"{len(found)} advisories, {len(IGNORED)} ignored",
        file=sys.stderr,
    )
    if found:
        sys.exit(1)


if __name__ == "__main__":
    main()
