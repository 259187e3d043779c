"""The pure core of the metrics service imports no I/O library, directly or through its imports."""

import ast
import importlib.util
from pathlib import Path

import pytest

CORE = [
    "services.metrics.aggregates",
    "services.metrics.ikm",
    "services.metrics.reports",
    "services.metrics.batch",
]
FORBIDDEN = {"asyncio", "aiohttp", "asyncpg", "aiokafka", "websockets", "socket", "prometheus_client"}


def _imports(module: str) -> set[str]:
    spec = importlib.util.find_spec(module)
    assert spec is not None
    assert spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def _closure(module: str) -> set[str]:
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(name for name in _imports(current) if name.startswith("services."))
        seen.update(name for name in _imports(current) if not name.startswith("services."))
    return seen


@pytest.mark.parametrize("module", CORE)
def test_core_imports_no_io(module: str) -> None:
    roots = {name.split(".")[0] for name in _closure(module)}
    assert not roots & FORBIDDEN, f"{module} reaches {sorted(roots & FORBIDDEN)}"
