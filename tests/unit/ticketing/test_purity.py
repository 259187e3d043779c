"""The pure core imports no I/O library."""

import ast
import pathlib

import services.ticketing.domain as domain

FORBIDDEN = {"asyncio", "aiohttp", "asyncpg", "aiokafka", "websockets", "socket", "prometheus_client"}
PURE = [
    *pathlib.Path(domain.__file__).parent.glob("*.py"),
    pathlib.Path(domain.__file__).parent.parent / "errors.py",
]


def test_domain_imports_no_io() -> None:
    assert len(PURE) >= 6
    for path in PURE:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"
                if name.startswith("services."):
                    assert name.startswith(("services.ticketing.domain", "services.ticketing.errors")), name
