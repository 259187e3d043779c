"""axe-core in Chromium: the pinned npm package, fetched once into a cache folder (never committed).

``python -m tests.browser.axe_core`` (or ``make axe``) fetches it ahead of time;
:func:`violations` fetches it on first use otherwise. The folder is
``$ANTRIAN_AXE_CACHE`` or ``~/.cache/antrian/axe-core-<version>``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from playwright.async_api import Page

VERSION = "4.14.1"
SERIOUS = ("serious", "critical")
WCAG_AA = ("wcag2a", "wcag2aa", "wcag21aa")  # the WCAG 2.1 A and AA rules only


def cache_dir() -> Path:
    """Where the pinned axe-core is installed."""
    default = Path.home() / ".cache" / "antrian" / f"axe-core-{VERSION}"
    return Path(os.environ.get("ANTRIAN_AXE_CACHE") or default)


def script() -> Path:
    """``axe.min.js`` of the pinned version, installed with npm into the cache folder when missing."""
    folder = cache_dir()
    path = folder / "node_modules" / "axe-core" / "axe.min.js"
    if not path.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is needed to fetch axe-core (apt-get install npm)")
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(folder),
             f"axe-core@{VERSION}"],
            check=True,
            capture_output=True,
        )  # fmt: skip
    return path


async def violations(
    page: Page, impacts: tuple[str, ...] = SERIOUS, tags: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """The axe-core violations of ``page`` as it stands, of the given impacts (serious and critical).

    ``tags`` narrows the rules to those tags (e.g. :data:`WCAG_AA`); by default every rule runs.
    """
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(script()))
    options = {"runOnly": {"type": "tag", "values": list(tags)}} if tags else {}
    result = await page.evaluate(
        "async (options) => (await window.axe.run(document, options)).violations", options
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result
        if v["impact"] in impacts
    ]


if __name__ == "__main__":
    print(script())
