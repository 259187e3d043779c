"""A broker of a test's own: the real Kafka, started by stack.sh in a private run folder.

For tests that stop or kill the broker, which the shared one of the suite must
never be. Same jars (the suite's cache), other ports, other data.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "deploy" / "local" / "stack.sh"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_running(pid: int) -> bool:
    """True while ``pid`` is a live process (a zombie waiting to be reaped is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


class PrivateKafka:
    """One combined broker+controller in ``run_dir``; start, kill -9 and start again."""

    def __init__(self, run_dir: Path, auth: str = "none") -> None:
        self.run_dir = run_dir
        self.port = _free_port()
        self.controller_port = _free_port()
        self.env = {
            **os.environ,
            "ANTRIAN_RUN_DIR": str(run_dir),
            "ANTRIAN_KAFKA_PORT": str(self.port),
            "ANTRIAN_KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "ANTRIAN_KAFKA_HEAP": "-Xms128m -Xmx384m",
            "ANTRIAN_KAFKA_AUTH": auth,  # scram: users and ACLs as in docs/deploy.md
        }
        self.env.pop("KAFKA_BOOTSTRAP_SERVERS", None)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.run_dir / "logs" / "kafka.log"

    async def _stack(self, command: str, within: float) -> None:
        process = await asyncio.create_subprocess_exec(
            "bash",
            str(STACK),
            command,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        async with asyncio.timeout(within):
            out, _ = await process.communicate()
        assert process.returncode == 0, f"stack.sh {command} failed:\n{out.decode(errors='replace')}"

    async def start(self) -> None:
        """Start the broker (formatting its storage the first time) and create the topics."""
        await self._stack("kafka-up", 150)

    def password(self, user: str) -> str:
        """A SCRAM user's password (``auth="scram"``), as stack.sh made it."""
        lines = (self.run_dir / "kafka" / "scram.env").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines)[user]

    def sign_in(self, user: str, password: str | None = None) -> dict[str, str]:
        """The services' Kafka variables for ``user`` on this broker."""
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "KAFKA_SASL_USERNAME": user,
            "KAFKA_SASL_PASSWORD": password if password is not None else self.password(user),
        }

    def pid(self) -> int:
        return int((self.run_dir / "pids" / "kafka.pid").read_text())

    async def kill(self) -> None:
        """SIGKILL, as a crash or a pulled plug of the broker's process; wait until it is gone."""
        pid = self.pid()
        os.kill(pid, signal.SIGKILL)
        async with asyncio.timeout(30):
            while process_running(pid) or _listening(self.port):  # noqa: ASYNC110 - another process
                await asyncio.sleep(0.1)

    async def stop(self) -> None:
        """Stop it for good (harmless when it is not running)."""
        await self._stack("kafka-down", 60)
