"""The local stack's commands on a stack of their own: up, up again, a taken port, down, down again.

A second, private stack (its own run folder, PostgreSQL cluster, Kafka broker
and ports) so the suite's shared broker and database are never touched.
"""

from __future__ import annotations

import contextlib
import os
import pty
import select
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import free_port
from tests.integration.private_kafka import process_running

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "deploy" / "local" / "stack.sh"
SERVICES = ("ticketing", "display", "metrics")


class LocalStack:
    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.ports = {name: free_port() for name in SERVICES}
        keep = {"PATH", "HOME", "LANG", "ANTRIAN_CACHE_DIR", "MAVEN_OPTS", "JAVA_HOME", "PYTHON"}
        self.env = {k: v for k, v in os.environ.items() if k in keep}
        self.env.update(
            {
                "ANTRIAN_RUN_DIR": str(run_dir),
                "ANTRIAN_PG_PORT": str(free_port()),
                "ANTRIAN_PG_FSYNC": "off",
                "ANTRIAN_KAFKA_PORT": str(free_port()),
                "ANTRIAN_KAFKA_CONTROLLER_PORT": str(free_port()),
                "ANTRIAN_KAFKA_HEAP": "-Xms128m -Xmx384m",
                "ANTRIAN_ADMIN_PASSWORD": uuid.uuid4().hex,
                **{f"{name.upper()}_PORT": str(port) for name, port in self.ports.items()},
            }
        )

    def run(self, command: str, timeout: float = 180, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(STACK), command],
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def pids(self) -> dict[str, int]:
        folder = self.run_dir / "pids"
        return {p.stem: int(p.read_text()) for p in folder.glob("*.pid")} if folder.is_dir() else {}


def _ready(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
        return int(response.status)


@pytest.fixture
def stack() -> Iterator[LocalStack]:
    # Under the checkout, where user postgres can reach when the suite runs as root.
    run_dir = ROOT / ".run" / f"stack-test-{uuid.uuid4().hex[:8]}"
    local = LocalStack(run_dir)
    try:
        yield local
    finally:
        local.run("down", timeout=120)
        shutil.rmtree(run_dir, ignore_errors=True)


def test_up_is_idempotent_a_taken_port_is_named_and_down_stops_exactly_ours(stack: LocalStack) -> None:
    # A port someone else holds: a clear message, not a hang.
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        refused = stack.run("up", TICKETING_PORT=str(taken))
    assert refused.returncode != 0
    assert f"port {taken} (for ticketing) is already taken" in refused.stderr

    first = stack.run("up")
    assert first.returncode == 0, first.stderr
    assert all(_ready(port) == 200 for port in stack.ports.values())
    assert f"http://localhost:{stack.ports['display']}/display/" in first.stdout + first.stderr
    started = stack.pids()
    assert set(started) == {"postgres", "kafka", *SERVICES}
    # The broker's own log is .run/logs/kafka.log (it once stayed empty).
    _wait_until(lambda: "Kafka Server started" in _text(stack.run_dir / "logs" / "kafka.log"), within=60)

    again = stack.run("up")
    assert again.returncode == 0, again.stderr
    assert "kafka already running" in again.stderr
    assert all(f"{name} already running" in again.stderr for name in SERVICES)
    assert stack.pids() == started  # nothing restarted, nothing doubled
    status = stack.run("status")
    assert all(f"{name}: running (pid {pid})" in status.stdout for name, pid in started.items())

    down = stack.run("down")
    assert down.returncode == 0, down.stderr
    assert not [name for name, pid in started.items() if process_running(pid)]
    assert stack.pids() == {}
    assert stack.run("down").returncode == 0  # a second down is harmless


def _text(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def _wait_until(condition: Callable[[], bool], within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"not within {within}s"
        time.sleep(0.2)


def _in_a_terminal(
    stack: LocalStack, command: str, until: Callable[[bytes], bool], within: float
) -> tuple[int, int, bytes]:
    """Start ``stack.sh command`` on a pseudo-terminal; return (pid, fd, output) once ``until(output)``."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: become stack.sh, as a user's shell would start it
        # ...with the signals a terminal's shell leaves at their defaults. A suite started
        # in the background inherits SIGINT ignored, and a shell cannot trap a signal
        # ignored on entry: Ctrl-C would then never reach stack.sh's trap.
        for number in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(number, signal.SIG_DFL)
        os.execve("/bin/bash", ["bash", str(STACK), command], stack.env)
    output = b""
    deadline = time.monotonic() + within
    while not until(output):
        assert time.monotonic() < deadline, output.decode(errors="replace")[-2000:]
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                output += os.read(fd, 65536)
            except OSError:  # the terminal closed: the command ended
                break
    return pid, fd, output


def _ctrl_c(stack: LocalStack, pid: int, fd: int, within: float) -> dict[str, int]:
    """Press Ctrl-C, wait until the command has ended; return every pid it recorded meanwhile."""
    recorded = stack.pids()
    os.write(fd, b"\x03")  # what the terminal sends for Ctrl-C: SIGINT to the foreground group
    deadline = time.monotonic() + within
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        assert time.monotonic() < deadline, f"stack.sh did not stop after Ctrl-C; recorded {recorded}"
        recorded.update(stack.pids())
        with contextlib.suppress(OSError):
            select.select([fd], [], [], 0.2) and os.read(fd, 65536)
    os.close(fd)
    return recorded


def _nothing_left(stack: LocalStack, recorded: dict[str, int]) -> None:
    assert not [name for name, pid in recorded.items() if process_running(pid)]
    assert stack.pids() == {}
    # Nor anything unrecorded: no process runs with this stack's folder in its
    # environment (every one stack.sh starts inherits it) and no port answers.
    assert _processes_of(stack) == []
    ports = {k: int(v) for k, v in stack.env.items() if k.endswith("_PORT")}
    assert not [name for name, port in ports.items() if _listening(port)]


def _processes_of(stack: LocalStack) -> list[str]:
    """The command lines of the live processes started with this stack's ANTRIAN_RUN_DIR."""
    mark = f"\0ANTRIAN_RUN_DIR={stack.run_dir}\0".encode()
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):  # gone meanwhile, or not ours to read
            if mark in b"\0" + (proc / "environ").read_bytes() and process_running(int(proc.name)):
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
    return found


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_ctrl_c_in_make_run_stops_everything_it_started(stack: LocalStack) -> None:
    pid, fd, output = _in_a_terminal(stack, "run", lambda out: b"Ctrl-C stops everything" in out, within=180)
    started = stack.pids()
    assert set(started) == {"postgres", "kafka", *SERVICES}, output.decode(errors="replace")[-2000:]
    recorded = _ctrl_c(stack, pid, fd, within=200)
    assert recorded == started
    _nothing_left(stack, recorded)


# Ctrl-C as soon as the first process is recorded (PostgreSQL: the broker's
# storage is being formatted), once the broker is started (the topics are being
# waited for, the schema migrated) and once a service is.
@pytest.mark.parametrize(("command", "moment"), [("run", "postgres"), ("run", "kafka"), ("up", "ticketing")])
def test_ctrl_c_during_start_up_leaves_nothing_running(stack: LocalStack, command: str, moment: str) -> None:
    pid_file = stack.run_dir / "pids" / f"{moment}.pid"
    pid, fd, _ = _in_a_terminal(stack, command, lambda _: pid_file.exists(), within=180)
    recorded = _ctrl_c(stack, pid, fd, within=200)
    assert moment in recorded
    _nothing_left(stack, recorded)


def test_a_pid_file_naming_someone_elses_process_is_not_ours(tmp_path: Path) -> None:
    # After a crash or a reboot a recorded pid may belong to another program now.
    stranger = subprocess.Popen(["sleep", "120"])
    try:
        stack = LocalStack(tmp_path / "run")
        (stack.run_dir / "pids").mkdir(parents=True)
        for name in ("kafka", "ticketing", "postgres"):
            (stack.run_dir / "pids" / f"{name}.pid").write_text(f"{stranger.pid}\n")
        status = stack.run("status")
        assert "kafka: stopped" in status.stdout
        assert "ticketing: stopped" in status.stdout
        assert stack.run("kafka-down").returncode == 0
        assert stack.run("down").returncode == 0
        assert stranger.poll() is None  # not signalled
        assert stack.pids() == {}  # the stale files are gone
    finally:
        stranger.kill()
        stranger.wait()
