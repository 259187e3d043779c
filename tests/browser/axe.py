"""axe-core in Chromium: installed from npm at test time into a cache folder (never committed).

``AXE_VERSION`` is pinned; the package lands in ``~/.cache/antrian/axe-core-<version>``
(or ``ANTRIAN_AXE_CACHE``), once per machine.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any

from playwright.async_api import Page

AXE_VERSION = "4.14.1"
SEVERE = ("serious", "critical")


async def axe_script() -> Path:
    """The path of axe.min.js, installing the pinned axe-core from npm the first time."""
    cache = Path(os.environ.get("ANTRIAN_AXE_CACHE", Path.home() / ".cache" / "antrian"))
    folder = cache / f"axe-core-{AXE_VERSION}"
    script = folder / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        assert npm is not None, "the accessibility checks need npm to fetch axe-core"
        folder.mkdir(parents=True, exist_ok=True)
        proc = await asyncio.create_subprocess_exec(
            npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(folder),
            f"axe-core@{AXE_VERSION}",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=180)
        assert proc.returncode == 0, out.decode(errors="replace")
    return script


async def severe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations (WCAG 2 A and AA) of the page as it stands."""
    await page.add_script_tag(path=str(await axe_script()))
    result: dict[str, Any] = await page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in SEVERE
    ]
