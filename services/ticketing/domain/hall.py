"""The declarative hall file: a branch, its agencies, services, counters and staff.

:func:`parse_hall` validates the already-parsed YAML/JSON document and returns a
:class:`HallPlan`; every problem is reported as a HallFileError that names the
offending entry. The file format is documented in ``deploy/halls/README.md``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.ticketing.domain.lifecycle import NoShowRule
from services.ticketing.domain.numbering import MAX_NUMBER, is_valid_prefix
from services.ticketing.domain.schedule import parse_hours, parse_schedule
from services.ticketing.errors import HallFileError

_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_USER_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
_ENV_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
ROLES = ("operator", "admin")


@dataclass(frozen=True, slots=True)
class CallingPolicy:
    """How a branch calls tickets: the priority streak cap and the no-show rule."""

    max_priority_streak: int = 3
    no_show: NoShowRule = field(default_factory=NoShowRule)


@dataclass(frozen=True, slots=True)
class Agency:
    """An agency (*instansi*) with booths in the hall."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Service:
    """A service (*layanan*) of an agency, with its own prefix and daily quota."""

    id: str
    agency_id: str
    name: str
    prefix: str
    daily_quota: int
    expected_service_seconds: int
    target_wait_seconds: int
    hours: Mapping[str, Any] | None
    rules: Mapping[str, Any] | None = None
    """The service's own breaks, holidays and cut-off (stored form), on top of the branch's."""


@dataclass(frozen=True, slots=True)
class Counter:
    """A counter (*loket*): its zone and the services it serves, in order of preference."""

    id: str
    name: str
    zone: str
    service_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class User:
    """An operator or admin; the password comes from an env variable or a stored argon2 hash."""

    username: str
    role: str
    counter_ids: tuple[str, ...]
    password_env: str | None
    password_hash: str | None


@dataclass(frozen=True, slots=True)
class HallPlan:
    """One branch and everything in it."""

    id: str
    name: str
    timezone: str
    schedule: Mapping[str, Any]
    calling: CallingPolicy
    agencies: tuple[Agency, ...]
    services: tuple[Service, ...]
    counters: tuple[Counter, ...]
    users: tuple[User, ...]


def parse_hall(doc: object) -> HallPlan:
    """Validate a hall document and return the hall, or raise HallFileError naming the problem."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("branch"), Mapping):
        raise HallFileError("a hall file is a mapping with a 'branch' section")
    branch = doc["branch"]
    branch_id = _slug(branch.get("id"), "branch.id")
    schedule = {
        "timezone": branch.get("timezone"),
        "hours": branch.get("hours") or {},
        **_schedule_rules(branch),
        "issuing_cutoff_minutes": branch.get("issuing_cutoff_minutes", 0),
    }
    try:
        parse_schedule(schedule)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise HallFileError(f"branch {branch_id}: {exc}") from exc
    agencies, services = _agencies(doc.get("agencies"), branch_id)
    counters = _counters(doc.get("counters"), branch_id, {s.id for s in services})
    users = _users(doc.get("users"), {c.id for c in counters})
    return HallPlan(
        id=branch_id,
        name=_text(branch.get("name"), "branch.name"),
        timezone=str(branch.get("timezone")),
        schedule=schedule,
        calling=_calling(branch.get("calling") or {}),
        agencies=tuple(agencies),
        services=tuple(services),
        counters=tuple(counters),
        users=tuple(users),
    )


def _agencies(raw: object, branch_id: str) -> tuple[list[Agency], list[Service]]:
    if not isinstance(raw, list) or not raw:
        raise HallFileError("'agencies' must be a non-empty list")
    agencies: list[Agency] = []
    services: list[Service] = []
    for item in raw:
        agency_id = _scoped(item.get("id") if isinstance(item, Mapping) else None, branch_id, "agency.id")
        agencies.append(Agency(agency_id, _text(item.get("name"), f"{agency_id}.name")))
        for svc in item.get("services") or []:
            services.append(_service(svc, branch_id, agency_id))
    _unique([a.id for a in agencies], "agency id")
    _unique([s.id for s in services], "service id")
    _unique([s.prefix for s in services], "service prefix")
    return agencies, services


def _service(raw: object, branch_id: str, agency_id: str) -> Service:
    if not isinstance(raw, Mapping):
        raise HallFileError(f"{agency_id}: each service must be a mapping")
    service_id = _scoped(raw.get("id"), branch_id, "service.id")
    prefix = raw.get("prefix")
    if not isinstance(prefix, str) or not is_valid_prefix(prefix):
        raise HallFileError(f"{service_id}: prefix must be 1-3 upper-case letters, got {prefix!r}")
    hours = raw.get("hours")
    rules = _schedule_rules(raw)
    if "issuing_cutoff_minutes" in raw:
        rules["issuing_cutoff_minutes"] = raw["issuing_cutoff_minutes"]
    try:
        if hours is not None:
            parse_hours(hours)
        parse_schedule({**rules, "timezone": "UTC"})
    except (ValueError, AttributeError, TypeError, KeyError) as exc:
        raise HallFileError(f"{service_id}: {exc}") from exc
    return Service(
        id=service_id,
        agency_id=agency_id,
        name=_text(raw.get("name"), f"{service_id}.name"),
        prefix=prefix,
        daily_quota=_int(raw.get("quota"), f"{service_id}.quota", 1, MAX_NUMBER),
        expected_service_seconds=60
        * _int(raw.get("service_minutes", 10), f"{service_id}.service_minutes", 1, 480),
        target_wait_seconds=60
        * _int(raw.get("target_wait_minutes", 30), f"{service_id}.target_wait_minutes", 1, 600),
        hours=hours,
        rules={key: value for key, value in rules.items() if value not in ([], {})} or None,
    )


def _schedule_rules(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The breaks and holidays of a branch or service section, in the stored form."""
    holidays = raw.get("holidays") or []
    if not isinstance(holidays, list):
        raise HallFileError("holidays must be a list of dates or {date, name}")
    return {
        "breaks": raw.get("breaks") or [],
        "holidays": [str(h.get("date")) if isinstance(h, Mapping) else str(h) for h in holidays],
        "holiday_names": {
            str(h.get("date")): str(h.get("name", "libur")) for h in holidays if isinstance(h, Mapping)
        },
    }


def _counters(raw: object, branch_id: str, service_ids: set[str]) -> list[Counter]:
    if not isinstance(raw, list) or not raw:
        raise HallFileError("'counters' must be a non-empty list")
    counters = []
    for item in raw:
        counter_id = _scoped(item.get("id") if isinstance(item, Mapping) else None, branch_id, "counter.id")
        served = item.get("services")
        if not isinstance(served, list) or not served:
            raise HallFileError(f"{counter_id}: 'services' must be a non-empty list")
        unknown = [s for s in served if s not in service_ids]
        if unknown:
            raise HallFileError(f"{counter_id}: unknown service(s) {unknown}")
        _unique(served, f"{counter_id} service")
        counters.append(
            Counter(
                counter_id,
                _text(item.get("name"), f"{counter_id}.name"),
                _slug(item.get("zone"), f"{counter_id}.zone"),
                tuple(served),
            )
        )
    _unique([c.id for c in counters], "counter id")
    return counters


def _users(raw: object, counter_ids: set[str]) -> list[User]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise HallFileError("'users' must be a list")
    users = []
    for item in raw:
        if not isinstance(item, Mapping) or not isinstance(item.get("username"), str):
            raise HallFileError("each user needs a 'username'")
        name = item["username"]
        if not _USER_RE.match(name):
            raise HallFileError(f"user name {name!r} must be lower-case letters, digits, '.', '_' or '-'")
        role = item.get("role", "operator")
        if role not in ROLES:
            raise HallFileError(f"{name}: role must be one of {ROLES}")
        counters = tuple(item.get("counters") or [])
        unknown = [c for c in counters if c not in counter_ids]
        if unknown:
            raise HallFileError(f"{name}: unknown counter(s) {unknown}")
        env, hashed = item.get("password_env"), item.get("password_hash")
        if "password" in item:
            raise HallFileError(f"{name}: plain passwords are not allowed; use password_env or password_hash")
        if env is not None and (not isinstance(env, str) or not _ENV_RE.match(env)):
            raise HallFileError(f"{name}: password_env must be an environment variable name")
        if hashed is not None and (not isinstance(hashed, str) or not hashed.startswith("$argon2")):
            raise HallFileError(f"{name}: password_hash must be an argon2 hash")
        users.append(User(name, role, counters, env, hashed))
    _unique([u.username for u in users], "user name")
    return users


def _calling(raw: Mapping[str, Any]) -> CallingPolicy:
    return CallingPolicy(
        max_priority_streak=_int(raw.get("max_priority_streak", 3), "calling.max_priority_streak", 1, 100),
        no_show=NoShowRule(
            min_recalls=_int(raw.get("no_show_min_recalls", 2), "calling.no_show_min_recalls", 0, 20),
            min_seconds=_int(raw.get("no_show_min_seconds", 120), "calling.no_show_min_seconds", 0, 3600),
        ),
    )


def _slug(value: object, where: str) -> str:
    if not isinstance(value, str) or not _SLUG_RE.match(value):
        raise HallFileError(f"{where} must be a lower-case slug, got {value!r}")
    return value


def _scoped(value: object, branch_id: str, where: str) -> str:
    slug = _slug(value, where)
    if not slug.startswith(f"{branch_id}-"):
        raise HallFileError(f"{where} {slug!r} must start with the branch id '{branch_id}-'")
    return slug


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise HallFileError(f"{where} must be a non-empty string")
    return value.strip()


def _int(value: object, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise HallFileError(f"{where} must be an integer in {low}..{high}, got {value!r}")
    return value


def _unique(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise HallFileError(f"duplicate {what} {value!r}")
        seen.add(value)


# -- one entry at a time: the admin console's changes pass the same checks as a hall file --------


def parse_agency(raw: Mapping[str, Any], branch_id: str) -> Agency:
    """One agency entry (``id``, ``name``) of ``branch_id``; HallFileError naming the problem."""
    agency_id = _scoped(raw.get("id"), branch_id, "agency.id")
    return Agency(agency_id, _text(raw.get("name"), f"{agency_id}.name"))


def parse_service(raw: Mapping[str, Any], branch_id: str, agency_id: str) -> Service:
    """One service entry in the hall file's form (minutes, ``quota``); HallFileError naming the problem."""
    return _service(raw, branch_id, agency_id)


def parse_counter(raw: Mapping[str, Any], branch_id: str, service_ids: set[str]) -> Counter:
    """One counter entry (``services`` in order of preference); HallFileError naming the problem."""
    return _counters([raw], branch_id, service_ids)[0]
