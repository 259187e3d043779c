"""A living demo hall: citizens arrive and counters serve them, through the public HTTP API only.

    make demo                                   # against the stack `make up` started
    make demo DEMO_ARGS='--rate 40 --speed 120'  # options through DEMO_ARGS
    python -m deploy.local.demo [--branch jkt] [--counters 4] [--rate 20] [--speed 60]
                                [--duration SECONDS] [--seed N] [--report FILE]

It reads the branch (``GET /api/v1/branches/{id}``), logs in as ``admin``
(password from ``ANTRIAN_ADMIN_PASSWORD`` or ``.run/admin-password``), opens
``--counters`` counters (those serving the most services first) and then
plays the hall: citizens arrive as a Poisson process of ``--rate`` per minute
of wall-clock time and take a ticket (services weighted by their daily quota,
about one in ten in a priority group, three in ten online); each counter calls
next, sometimes recalls once or twice, serves for a random time around the
service's expected time divided by ``--speed`` (60: a 6-minute service takes
6 seconds), completes or now and then transfers; a few citizens never come (a
no-show, marked once the branch's rule allows it: that rule runs on the real
clock, so such a counter waits it out); most rate the service (the nine IKM
elements, mostly 3 and 4). Refusals (closed hours, quota) pause that service
until the ``retry_at`` the API gives. Ctrl-C or ``--duration`` ends it with a
summary and leaves the hall as it stands (counters open, perhaps a citizen at
one); the next run picks up the tickets left at its counters. It touches no
database and no broker: only what a kiosk and a counter client can do, so it
can drive any Antrian deployment.

The first half of this file is pure (the citizens, the operators, the
arguments); the second half drives a running ticketing service with them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import signal
import sys
import uuid
from collections import Counter as Tally
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

log = logging.getLogger("antrian.demo")


def _kiosk_token() -> str | None:
    """The device token of the local stack's kiosk (stack.sh writes it), when there is one."""
    token = os.environ.get("ANTRIAN_KIOSK_TOKEN")
    path = Path(os.environ.get("ANTRIAN_RUN_DIR", ".run")) / "kiosk-token"
    if not token and path.is_file():
        token = path.read_text().strip()
    return token or None


KIOSK_TOKEN = _kiosk_token()

ROOT = Path(__file__).resolve().parents[2]
PASSWORD_FILE = ROOT / ".run" / "admin-password"
PRIORITY_GROUPS = ("lansia", "disabilitas", "ibu_hamil")

# Hall time (seconds in the hall being played), divided by --speed for the wall clock.
WALK = (10.0, 60.0)  # from the seat to the counter after a call
RECALL_GAP = 45.0  # an operator waits this long before calling the number again
SURVEY_DELAY = (20.0, 180.0)  # from the counter to the survey on the phone
MIN_SERVICE = 30.0
# Odds of what happens to a called citizen.
P_PRIORITY, P_ONLINE = 0.10, 0.30
P_NO_SHOW, P_RECALL_ONCE, P_RECALL_TWICE = 0.04, 0.12, 0.04
P_TRANSFER, P_SURVEY = 0.05, 0.6
# Survey answers: most citizens are content; a few are not.
CONTENT = (0.01, 0.04, 0.30, 0.65)  # weights of scores 1, 2, 3, 4
UNHAPPY = (0.10, 0.35, 0.40, 0.15)
P_UNHAPPY = 0.1
# Wall-clock seconds: these follow the server's real clock, not the hall's.
IDLE_POLL = (0.3, 2.0)  # bounds of the pause between call-next polls of an idle counter
NO_SHOW_RETRY = 5.0  # between no-show attempts the branch's rule refuses
NO_SHOW_RECALL_EVERY = 20.0  # an operator waiting out the rule still calls the number now and then
NO_SHOW_PATIENCE = 300.0  # after this the citizen turns up after all
SUSPEND_UNKNOWN = 3600.0  # a refused service without retry_at is tried again after this


class DemoError(Exception):
    """Root of the demo's own errors: each ends the run with its message.

    DemoError
    ├── SetupFailed    the branch or the admin login is not usable
    └── Unreachable    the ticketing service does not answer
    """


class SetupFailed(DemoError):
    """The branch, the counters or the admin login cannot be used."""


class Unreachable(DemoError):
    """The ticketing service does not answer (after a few retries)."""


# ---------------------------------------------------------------- the arguments


@dataclass(frozen=True, slots=True)
class Options:
    """What one run plays."""

    url: str
    branch: str
    counters: int
    rate: float  # citizens per wall-clock minute
    speed: float  # hall seconds per wall-clock second
    duration: float | None  # wall-clock seconds; None = until Ctrl-C
    seed: int | None
    report: Path | None


def _positive(kind: type[int] | type[float]) -> Any:
    def convert(text: str) -> int | float:
        value = kind(text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be greater than 0, not {text}")
        return value

    convert.__name__ = f"positive {kind.__name__}"
    return convert


def parse_args(argv: Sequence[str] | None, env: Mapping[str, str]) -> Options:
    """The command line, with the default URL taken from ``TICKETING_PORT`` in ``env``."""
    default_url = f"http://127.0.0.1:{env.get('TICKETING_PORT') or '8080'}"
    parser = argparse.ArgumentParser(
        prog="python -m deploy.local.demo", description=(__doc__ or "").split("\n", 1)[0]
    )
    parser.add_argument("--url", default=default_url, help=f"ticketing service (default {default_url})")
    parser.add_argument("--branch", default="jkt", help="branch id (default jkt, open around the clock)")
    parser.add_argument("--counters", type=_positive(int), default=4, help="counters to open (default 4)")
    parser.add_argument(
        "--rate", type=_positive(float), default=20.0, help="citizens per minute (default 20)"
    )
    parser.add_argument(
        "--speed", type=_positive(float), default=60.0, help="hall seconds per real second (default 60)"
    )
    parser.add_argument("--duration", type=_positive(float), help="stop after this many seconds")
    parser.add_argument("--seed", type=int, help="the same seed brings the same citizens")
    parser.add_argument("--report", type=Path, help="write the ticket ids of each outcome here as JSON")
    args = parser.parse_args(argv)
    return Options(
        url=args.url.rstrip("/"),
        branch=args.branch,
        counters=args.counters,
        rate=args.rate,
        speed=args.speed,
        duration=args.duration,
        seed=args.seed,
        report=args.report,
    )


def admin_password(env: Mapping[str, str], file: Path = PASSWORD_FILE) -> str:
    """``ANTRIAN_ADMIN_PASSWORD``, else the password `make up` kept in ``.run/admin-password``."""
    if env.get("ANTRIAN_ADMIN_PASSWORD"):
        return env["ANTRIAN_ADMIN_PASSWORD"]
    try:
        password = file.read_text(encoding="utf-8").strip()
    except OSError:
        password = ""
    if not password:
        raise SetupFailed(
            f"no admin password: set ANTRIAN_ADMIN_PASSWORD or run `make up` (it writes {file})"
        )
    return password


# ---------------------------------------------------------------- the citizens (pure)


def next_arrival(rng: random.Random, rate_per_minute: float) -> float:
    """Seconds until the next citizen: arrivals are a Poisson process, so the gaps are exponential."""
    return rng.expovariate(rate_per_minute / 60.0)


@dataclass(frozen=True, slots=True)
class Service:
    """One service citizens can come for, as the branch describes it."""

    id: str
    name: str
    weight: float  # its share of arrivals
    service_seconds: float  # expected time at the counter (hall time)
    agency_id: str = ""


class ServiceMix:
    """Which service the next citizen wants: services weighted by their share."""

    def __init__(self, services: Sequence[Service]) -> None:
        if not services:
            raise ValueError("a service mix needs at least one service")
        self.services = tuple(services)

    def pick(self, rng: random.Random, exclude: frozenset[str] = frozenset()) -> Service | None:
        """A service by weight, never one in ``exclude``; None when every one is excluded."""
        open_ = [s for s in self.services if s.id not in exclude]
        if not open_:
            return None
        return rng.choices(open_, weights=[s.weight for s in open_])[0]

    def get(self, service_id: str) -> Service | None:
        """The service with this id, if the mix has it."""
        return next((s for s in self.services if s.id == service_id), None)


def choose_counters(counters: Sequence[Mapping[str, Any]], wanted: int) -> list[Mapping[str, Any]]:
    """``wanted`` counters, each the one adding most services not yet served (branch order on ties)."""
    chosen: list[Mapping[str, Any]] = []
    served: set[str] = set()
    left = list(counters)
    while left and len(chosen) < wanted:
        best = max(left, key=lambda c: len(set(c["service_ids"]) - served))  # max keeps the first of ties
        left.remove(best)
        chosen.append(best)
        served.update(best["service_ids"])
    return chosen


def service_mix(branch: Mapping[str, Any], counters: Sequence[Mapping[str, Any]]) -> ServiceMix:
    """The services ``counters`` serve, weighted by daily quota (the hall's own guess at demand)."""
    served = {sid for c in counters for sid in c["service_ids"]}
    services = [
        Service(
            id=s["id"],
            name=s["name"],
            weight=float(s.get("daily_quota") or 1),
            service_seconds=float(s.get("expected_service_seconds") or 300),
            agency_id=str(s.get("agency_id") or ""),
        )
        for s in branch["services"]
        if s["id"] in served
    ]
    return ServiceMix(services)


def transfer_target(mix: ServiceMix, rng: random.Random, service_id: str) -> Service | None:
    """Where a citizen is sent on: another service of the same agency if there is one, else any other."""
    here = mix.get(service_id)
    others = [s for s in mix.services if s.id != service_id]
    siblings = [s for s in others if here is not None and s.agency_id == here.agency_id]
    keep = {s.id for s in siblings or others}
    return mix.pick(rng, frozenset(s.id for s in mix.services if s.id not in keep))


@dataclass(frozen=True, slots=True)
class Citizen:
    """Who takes the next ticket."""

    priority_group: str | None
    channel: str


def new_citizen(rng: random.Random) -> Citizen:
    """About one in ten in a priority group; about three in ten take their ticket online."""
    group = rng.choice(PRIORITY_GROUPS) if rng.random() < P_PRIORITY else None
    return Citizen(priority_group=group, channel="online" if rng.random() < P_ONLINE else "kiosk")


@dataclass(frozen=True, slots=True)
class Visit:
    """What happens once a ticket is called, in hall seconds."""

    walk: float
    recalls: int  # recalls before the citizen arrives (or before the operator gives up)
    no_show: bool
    service: float
    transfer: bool
    survey: bool
    survey_delay: float


def plan_visit(rng: random.Random, mean_service: float) -> Visit:
    """Draw one called citizen's visit: recalls, a rare no-show, the time served, transfer, survey."""
    no_show = rng.random() < P_NO_SHOW
    if no_show:
        recalls = 2
    else:
        draw = rng.random()
        recalls = 2 if draw < P_RECALL_TWICE else 1 if draw < P_RECALL_TWICE + P_RECALL_ONCE else 0
    return Visit(
        walk=rng.uniform(*WALK),
        recalls=recalls,
        no_show=no_show,
        service=max(MIN_SERVICE, rng.gammavariate(4.0, mean_service / 4.0)),
        transfer=rng.random() < P_TRANSFER,
        survey=rng.random() < P_SURVEY,
        survey_delay=rng.uniform(*SURVEY_DELAY),
    )


def survey_scores(rng: random.Random) -> list[int]:
    """Nine IKM element scores (1-4), skewed to 3 and 4; a few citizens are unhappy throughout."""
    weights = UNHAPPY if rng.random() < P_UNHAPPY else CONTENT
    return rng.choices((1, 2, 3, 4), weights=weights, k=9)


def ikm_index(answers: Sequence[Sequence[int]]) -> float | None:
    """The IKM of ``answers`` (PermenPAN-RB 14/2017): mean of the nine element means × 25."""
    if not answers:
        return None
    means = [sum(a[i] for a in answers) / len(answers) for i in range(9)]
    return round(sum(means) / 9 * 25, 2)


def wall(hall_seconds: float, speed: float) -> float:
    """Hall seconds as wall-clock seconds at ``speed``."""
    return hall_seconds / speed


def idle_poll(speed: float) -> float:
    """How long an idle counter waits before calling again (30 hall seconds, within bounds)."""
    low, high = IDLE_POLL
    return min(high, max(low, wall(30.0, speed)))


def minutes(hall_seconds: float) -> str:
    """``5m40s``: a hall duration for the log."""
    whole = round(hall_seconds)
    return f"{whole // 60}m{whole % 60:02d}s"


# ---------------------------------------------------------------- the API


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP answer: its status and its JSON body (None when there is none)."""

    status: int
    body: Any

    def field(self, name: str) -> Any:
        """A member of a JSON object body, or None."""
        return self.body.get(name) if isinstance(self.body, dict) else None

    @property
    def problem(self) -> str:
        """What went wrong, for one log line."""
        detail = self.field("detail") or self.field("title") or str(self.body or "")[:200]
        return f"{self.status} {detail}".strip()


class Api:
    """The ticketing service's public API, as a kiosk and an admin at a counter use it."""

    RETRIES = (0.5, 1.0, 2.0, 4.0)  # pauses before giving up on a service that does not answer

    def __init__(self, session: aiohttp.ClientSession, base: str, password: str) -> None:
        self.session, self.base, self.password = session, base, password
        self.token: str | None = None

    async def login(self) -> None:
        """Log in as ``admin``; SetupFailed when the password is refused."""
        reply = await self.call(
            "POST", "/api/v1/auth/login", {"username": "admin", "password": self.password}
        )
        if reply.status != 200 or not reply.field("token"):
            raise SetupFailed(
                f"admin login refused ({reply.problem}); set ANTRIAN_ADMIN_PASSWORD to the admin password"
            )
        self.token = str(reply.field("token"))

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        auth: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """One request; an expired token is renewed once. Unreachable when the service does not answer."""
        reply = await self._send(method, path, body, auth, headers)
        if auth and reply.status == 401:
            await self.login()
            reply = await self._send(method, path, body, auth, headers)
        return reply

    async def _send(
        self, method: str, path: str, body: Any, auth: bool, headers: Mapping[str, str] | None
    ) -> Reply:
        sent = dict(headers or {})
        if KIOSK_TOKEN:  # the demo's kiosk is a registered one: not throttled per address
            sent.setdefault("X-Kiosk-Token", KIOSK_TOKEN)
        if auth and self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        for pause in (*self.RETRIES, None):
            try:
                async with self.session.request(method, self.base + path, json=body, headers=sent) as resp:
                    if resp.status == 204:
                        return Reply(204, None)
                    text = await resp.text()
                    try:
                        return Reply(resp.status, json.loads(text) if text else None)
                    except ValueError:
                        return Reply(resp.status, text)
            except (aiohttp.ClientConnectionError, TimeoutError) as exc:
                if pause is None:
                    why = f"{type(exc).__name__}: {exc}".rstrip(": ")
                    raise Unreachable(
                        f"ticketing at {self.base} does not answer ({why}); is the stack up?"
                    ) from exc
                await asyncio.sleep(pause)
        raise AssertionError("unreachable")  # the loop returns or raises


# ---------------------------------------------------------------- the hall


@dataclass(slots=True)
class Record:
    """What the run did: counts, and the ticket ids of each outcome (for --report)."""

    counts: Tally[str] = field(default_factory=Tally)
    ids: dict[str, list[str]] = field(default_factory=dict)
    answers: list[list[int]] = field(default_factory=list)

    def note(self, outcome: str, ticket_id: str | None = None) -> None:
        """Count ``outcome`` (and remember its ticket)."""
        self.counts[outcome] += 1
        if ticket_id is not None:
            self.ids.setdefault(outcome, []).append(ticket_id)


class DemoBranch:
    """One branch played through the API: the arrivals and one operator per open counter."""

    def __init__(self, api: Api, options: Options, branch: Mapping[str, Any]) -> None:
        self.api, self.options, self.branch = api, options, branch
        self.counters = choose_counters(branch["counters"], options.counters)
        self.mix = service_mix(branch, self.counters)
        # Two streams, so that the citizens a seed brings do not depend on the counters' timing.
        self.rng = random.Random(options.seed)  # arrivals
        self.desk_rng = random.Random(None if options.seed is None else options.seed + 1)  # visits, surveys
        self.run_id = uuid.uuid4().hex[:10]  # idempotency keys must differ between runs
        self.record = Record()
        self.suspended: dict[str, datetime] = {}  # service id -> when issuing may work again
        self.refusals_told: set[tuple[str, str]] = set()
        self.transferred: set[str] = set()
        self.surveys: set[asyncio.Task[None]] = set()

    def wall(self, hall_seconds: float) -> float:
        """Hall seconds as wall-clock seconds at this run's speed."""
        return wall(hall_seconds, self.options.speed)

    # -- arrivals -----------------------------------------------------------
    async def arrivals(self) -> None:
        """Citizens arrive until cancelled; each takes a ticket for a service that issues now."""
        n = 0
        while True:
            await asyncio.sleep(next_arrival(self.rng, self.options.rate))
            now = datetime.now(UTC)
            service = self.mix.pick(self.rng, frozenset(k for k, v in self.suspended.items() if v > now))
            if service is None:
                await self._all_refused(now)
                continue
            n += 1
            await self.issue(service, new_citizen(self.rng), f"demo-{self.run_id}-{n}")

    async def issue(self, service: Service, citizen: Citizen, key: str) -> None:
        """Take one ticket; a refusal suspends that service until its ``retry_at``."""
        body = {
            "service_id": service.id,
            "channel": citizen.channel,
            "priority_group": citizen.priority_group,
        }
        path = f"/api/v1/branches/{self.branch['id']}/tickets"
        reply = await self.api.call("POST", path, body, headers={"Idempotency-Key": key})
        if reply.status == 201:
            ticket = reply.body
            self.record.note("issued", ticket["id"])
            self.record.note(citizen.channel)
            if citizen.priority_group:
                self.record.note("priority")
            log.info(
                "%-9s %s %s%s · position %s, est. %s",
                citizen.channel,
                ticket["number"],
                service.name,
                f" · {citizen.priority_group}" if citizen.priority_group else "",
                ticket.get("position"),
                minutes(float(ticket.get("estimated_wait_seconds") or 0)),
            )
        elif reply.status in (409, 422):
            self._refused(service, reply)
        else:
            self.record.note("problems")
            log.warning("kiosk     could not issue a %s ticket: %s", service.name, reply.problem)

    def _refused(self, service: Service, reply: Reply) -> None:
        self.record.note("refused")
        reason = str(reply.field("reason") or "refused")
        retry_at = reply.field("retry_at")
        until = _parse_time(retry_at) or datetime.now(UTC) + timedelta(seconds=SUSPEND_UNKNOWN)
        self.suspended[service.id] = until
        told = (reason, str(retry_at))
        if told not in self.refusals_told:  # a closed hall refuses every service: say it once
            self.refusals_told.add(told)
            log.warning(
                "kiosk     %s refused (%s): %s — next try at %s",
                service.name,
                reason,
                reply.problem,
                retry_at or until.isoformat(timespec="seconds"),
            )

    async def _all_refused(self, now: datetime) -> None:
        earliest = min(self.suspended.values())
        if ("all", earliest.isoformat()) not in self.refusals_told:
            self.refusals_told.add(("all", earliest.isoformat()))
            log.warning(
                "kiosk     no service issues tickets now; the next try is at %s", earliest.isoformat()
            )
        await asyncio.sleep(min(60.0, max(1.0, (earliest - now).total_seconds())))

    # -- counters -----------------------------------------------------------
    async def open_counters(self) -> None:
        """Open the chosen counters (those already open stay open)."""
        for counter in self.counters:
            reply = await self.api.call("GET", f"/api/v1/counters/{counter['id']}", auth=True)
            if reply.status == 200 and reply.field("status") == "open":
                log.info("%-9s already open", counter["name"])
                continue
            await self._open(counter)

    async def _open(self, counter: Mapping[str, Any]) -> None:
        reply = await self.api.call("POST", f"/api/v1/counters/{counter['id']}/open", auth=True)
        if reply.status == 200:
            self.record.note("opened")
            log.info("%-9s opens for %s", counter["name"], ", ".join(counter["service_ids"]))
        elif reply.status in (401, 403, 404):
            raise SetupFailed(f"cannot open {counter['id']}: {reply.problem}")
        else:
            log.warning("%-9s could not open: %s", counter["name"], reply.problem)

    async def operator(self, counter: Mapping[str, Any]) -> None:
        """One counter's operator: call next, attend the citizen, again; until cancelled."""
        name = counter["name"]
        await self.resume(counter)
        said = ""  # what the log last said about this counter's calls: not again while it holds
        while True:
            reply = await self.api.call("POST", f"/api/v1/counters/{counter['id']}/call-next", auth=True)
            if reply.status == 200:
                said = ""
                self.record.note("called", reply.body["id"])
                log.info("%-9s calls %s (%s)", name, reply.body["number"], reply.body.get("service_name"))
                await self.attend(counter, reply.body)
            elif reply.status == 204:
                if said != "idle":
                    log.info("%-9s nobody waiting", name)
                    said = "idle"
                await asyncio.sleep(idle_poll(self.options.speed))
            else:  # 409: closed or paused by someone else, or a ticket still active; look and go on
                if said != reply.problem:
                    log.warning("%-9s call-next refused: %s", name, reply.problem)
                    said = reply.problem
                await asyncio.sleep(1.0)
                await self.resume(counter)

    async def resume(self, counter: Mapping[str, Any]) -> None:
        """Bring the counter back to open and free: reopen it, finish a ticket left active at it."""
        reply = await self.api.call("GET", f"/api/v1/counters/{counter['id']}", auth=True)
        if reply.status != 200:  # the next call-next tells why
            return
        if reply.field("status") != "open":
            await self._open(counter)
        active = reply.field("active_ticket_id")
        if active:
            ticket = await self.api.call("GET", f"/api/v1/tickets/{active}")
            if ticket.status == 200 and ticket.field("status") in ("called", "serving"):
                log.info(
                    "%-9s resumes %s (%s)", counter["name"], ticket.body["number"], ticket.body["status"]
                )
                await self.attend(counter, ticket.body)

    async def act(self, counter: Mapping[str, Any], action: str, body: Any = None) -> Reply:
        """One action at the counter on its active ticket."""
        return await self.api.call("POST", f"/api/v1/counters/{counter['id']}/{action}", body, auth=True)

    async def attend(self, counter: Mapping[str, Any], ticket: Mapping[str, Any]) -> None:
        """From the call to the end of the visit; an unexpected answer ends it (the loop resumes)."""
        number = ticket["number"]
        service = self.mix.get(ticket["service_id"])
        visit = plan_visit(self.desk_rng, service.service_seconds if service else 300.0)
        if ticket["status"] == "called":
            for i in range(visit.recalls):
                await asyncio.sleep(self.wall(RECALL_GAP))
                if not await self._step(counter, "recall", ticket, f"recalls {number} ({i + 1})"):
                    return
            if visit.no_show and await self.no_show(counter, ticket):
                return
            await asyncio.sleep(self.wall(visit.walk))
            if not await self._step(counter, "start", ticket, f"serves {number}"):
                return
            self.record.note("served", ticket["id"])
        await asyncio.sleep(self.wall(visit.service))
        if visit.transfer and await self.transfer(counter, ticket):
            return
        if await self._step(counter, "complete", ticket, f"completes {number} ({minutes(visit.service)})"):
            self.record.note("completed", ticket["id"])
            if visit.survey:
                task = asyncio.create_task(self.survey(ticket, self.wall(visit.survey_delay)))
                self.surveys.add(task)
                task.add_done_callback(self.surveys.discard)

    async def _step(
        self, counter: Mapping[str, Any], action: str, ticket: Mapping[str, Any], says: str
    ) -> bool:
        reply = await self.act(counter, action)
        if reply.status == 200:
            if action == "recall":
                self.record.note("recalled", ticket["id"])
            log.info("%-9s %s", counter["name"], says)
            return True
        self.record.note("problems")
        log.warning("%-9s %s %s refused: %s", counter["name"], action, ticket["number"], reply.problem)
        return False

    async def no_show(self, counter: Mapping[str, Any], ticket: Mapping[str, Any]) -> bool:
        """Mark a citizen who never came; the branch's rule may make the operator recall and wait.

        Returns False when the rule still refuses after NO_SHOW_PATIENCE: the
        citizen turns up after all and is served.
        """
        loop = asyncio.get_running_loop()
        name, number = counter["name"], ticket["number"]
        deadline = loop.time() + NO_SHOW_PATIENCE
        last_recall = loop.time()
        told = False
        while True:
            reply = await self.act(counter, "no-show")
            if reply.status == 200:
                self.record.note("no_show", ticket["id"])
                log.info("%-9s %s did not come: no-show", name, number)
                return True
            if reply.status != 409 or loop.time() > deadline:
                log.info("%-9s %s turns up after all (%s)", name, number, reply.problem)
                return False
            if not told:  # the rule's answer, once; then the operator just waits it out
                log.info(
                    "%-9s %s not here yet; waiting for the no-show rule: %s", name, number, reply.problem
                )
                told = True
            if loop.time() - last_recall >= NO_SHOW_RECALL_EVERY:
                await self._step(counter, "recall", ticket, f"recalls {number} again")
                last_recall = loop.time()
            await asyncio.sleep(NO_SHOW_RETRY)

    async def transfer(self, counter: Mapping[str, Any], ticket: Mapping[str, Any]) -> bool:
        """Send the citizen on to another open service (once per ticket); False when none fits."""
        if ticket["id"] in self.transferred:
            return False
        target = transfer_target(self.mix, self.desk_rng, ticket["service_id"])
        if target is None:
            return False
        reply = await self.act(counter, "transfer", {"service_id": target.id})
        if reply.status != 200:
            log.warning("%-9s transfer of %s refused: %s", counter["name"], ticket["number"], reply.problem)
            return False
        self.transferred.add(ticket["id"])
        self.record.note("transferred", ticket["id"])
        log.info("%-9s transfers %s to %s", counter["name"], ticket["number"], target.name)
        return True

    async def survey(self, ticket: Mapping[str, Any], delay: float) -> None:
        """The citizen rates the service from their phone a little later."""
        await asyncio.sleep(delay)
        scores = survey_scores(self.desk_rng)
        reply = await self.api.call("POST", f"/api/v1/tickets/{ticket['id']}/survey", {"scores": scores})
        if reply.status == 201:
            self.record.note("surveys", ticket["id"])
            self.record.answers.append(scores)
            log.info("%-9s %s rates %s", "survey", ticket["number"], " ".join(map(str, scores)))
        else:
            log.warning("%-9s %s not accepted: %s", "survey", ticket["number"], reply.problem)

    async def waiting(self) -> int | None:
        """How many still wait at the branch now (None when the service cannot say)."""
        try:
            reply = await self.api.call("GET", f"/api/v1/branches/{self.branch['id']}/queue")
        except Unreachable:
            return None
        value = reply.field("waiting")
        return int(value) if reply.status == 200 and value is not None else None


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else None


# ---------------------------------------------------------------- the run


async def load_branch(api: Api, branch_id: str) -> dict[str, Any]:
    """The branch with its services and counters; SetupFailed naming the known branches otherwise."""
    reply = await api.call("GET", f"/api/v1/branches/{branch_id}")
    if reply.status == 200 and reply.field("counters"):
        return dict(reply.body)
    known = await api.call("GET", "/api/v1/branches")
    ids = [b.get("id") for b in known.field("items") or []] if known.status == 200 else []
    if reply.status == 200:
        raise SetupFailed(f"branch {branch_id!r} has no counters")
    raise SetupFailed(f"no branch {branch_id!r} at {api.base} ({reply.problem}); known: {ids or 'none'}")


def summary(record: Record, seconds: float, waiting: int | None) -> str:
    """One paragraph of what the run did."""
    c = record.counts
    index = ikm_index(record.answers)
    rated = f"surveys {c['surveys']}" + (f" (IKM {index:.2f})" if index is not None else "")
    parts = [
        f"issued {c['issued']} (kiosk {c['kiosk']}, online {c['online']}, priority {c['priority']})",
        f"refused {c['refused']}",
        f"called {c['called']}, recalls {c['recalled']}, served {c['served']}",
        f"completed {c['completed']}, transferred {c['transferred']}, no-shows {c['no_show']}",
        rated,
        f"problems {c['problems']}",
        f"still waiting {'?' if waiting is None else waiting}",
    ]
    return f"demo summary after {seconds:.0f} s: " + " · ".join(parts)


async def play(options: Options, password: str) -> tuple[int, Record | None]:
    """Play the hall until Ctrl-C, SIGTERM or ``--duration``; return the exit status and the record."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    started = loop.time()
    timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        api = Api(session, options.url, password)
        try:
            branch = await load_branch(api, options.branch)
            await api.login()
            hall = DemoBranch(api, options, branch)
            log.info(
                "antrian demo: %s (%s, %s) at %s · %s citizens/min · speed ×%g · %s",
                branch["name"], branch["id"], branch["timezone"], options.url, options.rate, options.speed,
                f"for {options.duration:g} s" if options.duration else "Ctrl-C stops",
            )  # fmt: skip
            await hall.open_counters()
        except DemoError as exc:
            log.error("demo stopped: %s", exc)
            return 1, None
        workers = [asyncio.create_task(hall.arrivals(), name="arrivals")]
        workers += [asyncio.create_task(hall.operator(c), name=c["id"]) for c in hall.counters]
        stopper = asyncio.create_task(stop.wait(), name="stop")
        done, _ = await asyncio.wait(
            [stopper, *workers], timeout=options.duration, return_when=asyncio.FIRST_COMPLETED
        )
        status = 0
        for task in done - {stopper}:
            failure = task.exception()
            if isinstance(failure, DemoError):
                log.error("demo stopped: %s", failure)
                status = 1
            elif failure is not None:
                raise failure
        everything = [stopper, *workers, *hall.surveys]
        for task in everything:
            task.cancel()
        for result in await asyncio.gather(*everything, return_exceptions=True):
            if isinstance(result, Exception) and not isinstance(result, DemoError):
                log.error("unexpected error in a background task: %r", result)
                status = 1
        waiting = await hall.waiting() if status == 0 else None  # not when ticketing is gone
        log.info("%s", summary(hall.record, loop.time() - started, waiting))
        return status, hall.record


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo from the command line; the exit status is 0 after a clean stop."""
    options = parse_args(argv, os.environ)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stdout
    )
    try:
        password = admin_password(os.environ)
    except SetupFailed as exc:
        log.error("demo stopped: %s", exc)
        return 1
    status, record = asyncio.run(play(options, password))
    if options.report is not None and record is not None:
        report = {"counts": dict(record.counts), "ids": record.ids, "ikm": ikm_index(record.answers)}
        options.report.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(main())
