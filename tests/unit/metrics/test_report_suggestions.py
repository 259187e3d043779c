"""The daily report's suggestions section (saran and respondent profiles), in JSON and CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from services.metrics.reports import Suggestion, daily_report

DAY = date(2026, 11, 28)
ITEM = Suggestion(
    submitted_at=datetime(2026, 11, 28, 2, 0, tzinfo=UTC),
    agency="dukcapil",
    service="ktp",
    counter="loket-1",
    sex="perempuan",
    age_group="30_39",
    education=None,
    occupation="wirausaha",
    saran='Tambah kursi, "tolong".\nTerima kasih',
)


def test_json_carries_the_suggestions() -> None:
    body = daily_report("bjb", DAY, [], [ITEM]).to_json()
    assert body["suggestions"] == [
        {
            "submitted_at": "2026-11-28T02:00:00+00:00",
            "agency": "dukcapil",
            "service": "ktp",
            "counter": "loket-1",
            "sex": "perempuan",
            "age_group": "30_39",
            "education": None,
            "occupation": "wirausaha",
            "saran": 'Tambah kursi, "tolong".\nTerima kasih',
        }
    ]
    assert daily_report("bjb", DAY, []).to_json()["suggestions"] == []


def test_csv_has_a_suggestions_section_after_the_rows() -> None:
    text = daily_report("bjb", DAY, [], [ITEM]).to_csv()
    head, _, section = text.partition("\r\n\r\n")
    assert [r["level"] for r in csv.DictReader(io.StringIO(head))] == ["branch"]
    (row,) = list(csv.DictReader(io.StringIO(section)))
    assert row["section"] == "suggestions"
    assert row["saran"] == 'Tambah kursi, "tolong".\nTerima kasih'
    assert row["education"] == ""
    assert "\r\n\r\n" not in daily_report("bjb", DAY, []).to_csv()
