"""Load hall files into the database, idempotently.

Loading a file twice changes nothing; loading an edited file updates names,
services and counter assignments but never a counter's live status, a ticket,
or a password already set.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from pathlib import Path

import asyncpg
import yaml

from services.ticketing import config
from services.ticketing.auth import hash_password
from services.ticketing.domain.hall import HallPlan, User, parse_hall
from services.ticketing.errors import HallFileError

log = logging.getLogger(__name__)

DEMO_PASSWORD_ENV = "ANTRIAN_DEMO_OPERATOR_PASSWORD"  # noqa: S105  (a variable name, not a secret)
# Demo-only fallback for the demo halls' operators, documented in deploy/halls/README.md.
DEMO_PASSWORD_DEFAULT = "petugas-demo"  # noqa: S105


def load_hall_file(path: Path) -> HallPlan:
    """Read and validate one hall file (YAML or JSON)."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise HallFileError(f"{path}: {exc}") from exc
    try:
        return parse_hall(doc)
    except HallFileError as exc:
        raise HallFileError(f"{path}: {exc.detail}") from exc


async def seed_hall(conn: asyncpg.Connection, hall: HallPlan, env: Mapping[str, str]) -> dict[str, int]:
    """Upsert the hall in one transaction; return counts of what it holds."""
    async with conn.transaction():
        await _seed_branch(conn, hall)
        for position, agency in enumerate(hall.agencies):
            await conn.execute(
                "INSERT INTO agencies (id, branch_id, name, position) VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, position = EXCLUDED.position",
                agency.id,
                hall.id,
                agency.name,
                position,
            )
        for position, svc in enumerate(hall.services):
            await config.write_service(conn, hall.id, svc, position)
        for position, counter in enumerate(hall.counters):
            await conn.execute(
                "INSERT INTO counters (id, branch_id, name, zone, service_ids, position)"
                " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name,"
                " zone = EXCLUDED.zone, service_ids = EXCLUDED.service_ids, position = EXCLUDED.position",
                counter.id,
                hall.id,
                counter.name,
                counter.zone,
                list(counter.service_ids),
                position,
            )
        warned: set[str] = set()
        for user in hall.users:
            await _seed_user(conn, user, env, warned)
    return {
        "agencies": len(hall.agencies),
        "services": len(hall.services),
        "counters": len(hall.counters),
        "users": len(hall.users),
    }


async def _seed_branch(conn: asyncpg.Connection, hall: HallPlan) -> None:
    policy = hall.calling
    await conn.execute(
        "INSERT INTO branches (id, name, timezone, schedule, max_priority_streak, no_show_min_recalls,"
        " no_show_min_seconds) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET"
        " name = EXCLUDED.name, timezone = EXCLUDED.timezone, schedule = EXCLUDED.schedule,"
        " max_priority_streak = EXCLUDED.max_priority_streak,"
        " no_show_min_recalls = EXCLUDED.no_show_min_recalls,"
        " no_show_min_seconds = EXCLUDED.no_show_min_seconds",
        hall.id,
        hall.name,
        hall.timezone,
        json.dumps(dict(hall.schedule)),
        policy.max_priority_streak,
        policy.no_show.min_recalls,
        policy.no_show.min_seconds,
    )


async def _seed_user(conn: asyncpg.Connection, user: User, env: Mapping[str, str], warned: set[str]) -> None:
    exists = await conn.fetchval("SELECT 1 FROM users WHERE username = $1", user.username)
    if exists and user.password_hash is None:
        await conn.execute(
            "UPDATE users SET role = $2, counter_ids = $3 WHERE username = $1",
            user.username,
            user.role,
            list(user.counter_ids),
        )
        return
    hashed = user.password_hash
    if hashed is None:
        variable = user.password_env or DEMO_PASSWORD_ENV
        password = env.get(variable)
        if not password:
            if variable not in warned:
                log.warning("%s is not set; its users get the documented demo-only password", variable)
                warned.add(variable)
            password = DEMO_PASSWORD_DEFAULT
        hashed = await asyncio.to_thread(hash_password, password)
    await conn.execute(
        "INSERT INTO users (username, role, password_hash, counter_ids) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (username) DO UPDATE SET role = EXCLUDED.role, password_hash = EXCLUDED.password_hash,"
        " counter_ids = EXCLUDED.counter_ids",
        user.username,
        user.role,
        hashed,
        list(user.counter_ids),
    )
