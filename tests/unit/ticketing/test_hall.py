"""Hall files: the demo halls are valid and complete; broken files are refused by name."""

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.ticketing.domain.hall import parse_hall
from services.ticketing.domain.schedule import parse_schedule
from services.ticketing.errors import HallFileError

HALLS = Path(__file__).resolve().parents[3] / "deploy" / "halls"
DESIGN_AGENCIES = [
    "Kependudukan", "Penanaman Modal", "BPJS Kesehatan", "BPJS Ketenagakerjaan", "Samsat", "Pertanahan",
    "Imigrasi", "Agama", "Polres", "Pengadilan Agama", "Kejaksaan", "KPP Pratama", "PLN", "PDAM",
    "Bank Kalsel", "Taspen", "Dinas Kesehatan", "Tenaga Kerja",
]  # fmt: skip


def load(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((HALLS / name).read_text())
    assert isinstance(doc, dict)
    return doc


def test_banjarbaru_is_a_real_hall() -> None:
    hall = parse_hall(load("banjarbaru.yaml"))
    assert hall.timezone == "Asia/Makassar"
    assert len(hall.agencies) >= 15
    assert len(hall.services) >= 60
    assert len(hall.counters) >= 20
    assert {c.zone for c in hall.counters} == {"lantai-1", "lantai-2"}
    names = " ".join(a.name for a in hall.agencies)
    for agency in DESIGN_AGENCIES:
        assert agency in names, agency
    served = {s for c in hall.counters for s in c.service_ids}
    assert served == {s.id for s in hall.services}, "every service has a counter"
    schedule = parse_schedule(hall.schedule)
    assert any(b.name == "Jumatan" and b.weekdays == {4} for b in schedule.breaks)
    assert schedule.holidays
    assert schedule.cutoff_minutes > 0
    assert all(u.password_env and not u.password_hash for u in hall.users)


def test_jakarta_is_a_second_branch_in_wib() -> None:
    hall = parse_hall(load("jakarta-small.yaml"))
    assert hall.timezone == "Asia/Jakarta"
    bjb = parse_hall(load("banjarbaru.yaml"))
    ids = lambda h: {x.id for x in (*h.agencies, *h.services, *h.counters)}  # noqa: E731
    assert not ids(hall) & ids(bjb), "ids are globally unique"


def broken(path: list[Any], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(load("jakarta-small.yaml"))
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["branch", "timezone"], "Asia/Atlantis", "time zone"),
        (["branch", "id"], "Bad Id", "branch.id"),
        (["agencies", 0, "id"], "other-dukcapil", "must start with the branch id"),
        (["agencies", 0, "services", 0, "prefix"], "a1", "prefix"),
        (["agencies", 0, "services", 1, "prefix"], "A", "duplicate service prefix"),
        (["agencies", 0, "services", 0, "quota"], 1000, "quota"),
        (["counters", 0, "services"], ["jkt-nothing"], "unknown service"),
        (["users", 0, "password"], "hunter2", "plain passwords"),
        (["users", 0, "counters"], ["jkt-loket-99"], "unknown counter"),
        (["branch", "hours", "mon"], "8-15", "time span"),
        (["branch", "holidays"], [{"name": "no date"}], "holiday 'None'"),
        (["agencies", 0, "services", 0, "breaks"], [{"name": "x", "time": "13-14"}], "time span"),
        (["agencies", 0, "services", 0, "breaks"], [{"days": ["jum"], "time": "11:00-12:00"}], "unknown day"),
        (["agencies", 0, "services", 0, "holidays"], ["2026-02-30"], "YYYY-MM-DD"),
        (["agencies", 0, "services", 0, "holidays"], "2026-12-25", "holidays must be a list"),
        (["agencies", 0, "services", 0, "issuing_cutoff_minutes"], -5, "issuing_cutoff_minutes"),
    ],
)
def test_broken_hall_files_are_refused(path: list[Any], value: Any, message: str) -> None:
    with pytest.raises(HallFileError, match=message):
        parse_hall(broken(path, value))


def test_a_service_keeps_its_own_breaks_holidays_and_cutoff() -> None:
    doc = broken(["agencies", 0, "services", 0, "breaks"], [{"name": "Apel pagi", "time": "08:00-08:30"}])
    service = doc["agencies"][0]["services"][0]
    service["holidays"] = [{"date": "2026-12-24", "name": "Cuti bersama"}]
    service["issuing_cutoff_minutes"] = 0
    hall = parse_hall(doc)
    rules = next(s.rules for s in hall.services if s.id == service["id"])
    assert rules == {
        "breaks": [{"name": "Apel pagi", "time": "08:00-08:30"}],
        "holidays": ["2026-12-24"],
        "holiday_names": {"2026-12-24": "Cuti bersama"},
        "issuing_cutoff_minutes": 0,  # zero is a choice, not a missing value
    }
    assert [s.rules for s in hall.services if s.id != service["id"]] == [None] * (len(hall.services) - 1)


def test_not_a_hall() -> None:
    for doc in (None, [], {"branch": "x"}):
        with pytest.raises(HallFileError):
            parse_hall(doc)
