"""Migrations carry stored figures forward: a schema of an older version keeps its counts."""

from __future__ import annotations

import json

import asyncpg
import pytest

from services.metrics.migrate import MIGRATIONS, migrate
from tests.conftest import SchemaFactory

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

CANCELLED = "qms_tickets_cancelled_total"


async def test_cancellations_counted_before_reasons_become_the_citizens(
    new_schema: SchemaFactory, database_url: str
) -> None:
    schema = await new_schema()
    conn = await asyncpg.connect(database_url, server_settings={"search_path": schema})
    try:
        # A schema as the version before the reason label left it.
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        await conn.execute(
            "CREATE TABLE schema_migrations"
            " (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        # The metrics runner of that version recorded each file's stem and no name.
        older = [(p.stem, p.read_text()) for p in sorted(MIGRATIONS.glob("*.sql")) if p.stem < "003"]
        assert [v for v, _ in older] == ["001_initial", "002_processed_events_retention"]
        for version, sql in older:
            await conn.execute(sql)
            await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
        before = {"branch": "bjb", "agency": "disdukcapil", "service": "ktp", "channel": "kiosk"}
        issued = dict(before)
        await conn.executemany(
            "INSERT INTO counter_totals (metric, labels, value) VALUES ($1, $2::jsonb, $3)",
            [(CANCELLED, json.dumps(before), 4.0), ("qms_tickets_issued_total", json.dumps(issued), 9.0)],
        )

        assert (await migrate(conn, schema))[0] == "003"

        rows = [
            (r["metric"], json.loads(r["labels"]), r["value"])
            for r in await conn.fetch("SELECT metric, labels::text AS labels, value FROM counter_totals")
        ]
        assert sorted(rows, key=lambda r: r[0]) == [
            (CANCELLED, {**before, "reason": "citizen"}, 4.0),
            ("qms_tickets_issued_total", issued, 9.0),  # other metrics untouched
        ]
        assert await migrate(conn, schema) == []  # applied once
    finally:
        await conn.close()
