"""A hall day, simulated: valid Antrian events onto a Kafka topic, in seconds.

The pure part, :func:`build_day`, runs a small discrete-event simulation of one
branch (counters opening, pausing and closing; tickets issued at kiosks and
online, some of them priority; calls, recalls, serving, completions, no-shows
after two recalls, transfers, cancellations and surveys) and returns the
events in order with strictly increasing sequences. The simulated day spans
``hours`` of event time; :func:`simulate_day` produces it to Kafka as fast as
the broker takes it. The same seed and start give the same events.

    python -m bench.simulate --topic queue.events --branch sim-1 --tickets 300 [--branches 20]
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import random
import uuid
from collections import Counter as Tally
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from services.events import (
    DATA_MODELS,
    CloudEvent,
    EventData,
    EventType,
    SurveySubmitted,
    encode,
    new_event,
    parse_data,
)
from services.events.types import format_time

SOURCE = "/ticketing"
MAX_RECALLS = 2  # a no-show only after this many recalls
RECALL_AFTER = 60.0  # seconds an operator waits before recalling
BREAK = 1800.0  # one counter's break (e.g. Friday prayers), seconds


@dataclass(frozen=True, slots=True)
class Service:
    """One service of the hall: what a ticket waits for."""

    id: str
    name: str
    agency_id: str
    agency_name: str
    prefix: str
    weight: float  # share of arrivals
    mean_service: float  # seconds at the counter
    target_wait: int  # service-level target, seconds


@dataclass(frozen=True, slots=True)
class Desk:
    """One counter (loket) and the services it calls for."""

    id: str
    name: str
    zone: str
    service_ids: tuple[str, ...]
    operator: str


@dataclass(frozen=True, slots=True)
class SimulatedBranch:
    """The branch being simulated."""

    timezone: str
    services: tuple[Service, ...]
    desks: tuple[Desk, ...]


def banjarbaru() -> SimulatedBranch:
    """A small MPP modelled on Banjarbaru: five agencies, six services, six counters."""
    dukcapil = ("disdukcapil", "Disdukcapil")
    services = (
        Service("ktp-el", "KTP-el", *dukcapil, "A", 0.28, 300, 1200),
        Service("kartu-keluarga", "Kartu Keluarga", *dukcapil, "B", 0.14, 360, 1200),
        Service("bpjs-kesehatan", "Kepesertaan JKN", "bpjs-kesehatan", "BPJS Kesehatan", "C", 0.2, 420, 1800),
        Service("pajak-kendaraan", "Pajak Kendaraan", "samsat", "Samsat", "D", 0.2, 240, 900),
        Service("paspor", "Paspor Baru", "imigrasi", "Kantor Imigrasi", "E", 0.1, 600, 2700),
        Service("skck", "SKCK", "polres", "Polres", "F", 0.08, 360, 1800),
    )
    desks = (
        Desk("loket-1", "Loket 1", "lantai-1", ("ktp-el", "kartu-keluarga"), "petugas-1"),
        Desk("loket-2", "Loket 2", "lantai-1", ("ktp-el", "kartu-keluarga"), "petugas-2"),
        Desk("loket-3", "Loket 3", "lantai-1", ("bpjs-kesehatan",), "petugas-3"),
        Desk("loket-4", "Loket 4", "lantai-1", ("pajak-kendaraan",), "petugas-4"),
        Desk("loket-5", "Loket 5", "lantai-2", ("paspor",), "petugas-5"),
        Desk("loket-6", "Loket 6", "lantai-2", ("skck", "bpjs-kesehatan"), "petugas-6"),
    )
    return SimulatedBranch(timezone="Asia/Makassar", services=services, desks=desks)


@dataclass(slots=True)
class _Ticket:
    id: str
    number: str
    service: Service
    priority_group: str | None
    channel: str
    issued: float
    queued: float  # when it (re)joined a queue: issue or transfer
    status: str = "waiting"
    desk: Desk | None = None
    recalls: int = 0
    serving: float = 0.0
    transferred: bool = False


@dataclass(slots=True)
class _Desk:
    desk: Desk
    status: str = "closed"
    ticket: _Ticket | None = None
    pause_pending: bool = False
    close_pending: bool = False
    drain: bool = True


@dataclass(frozen=True, slots=True)
class Day:
    """One simulated day: its events in order and what happened."""

    events: tuple[CloudEvent, ...]
    tickets: int
    counts: dict[str, int]
    waiting: int = 0  # tickets still waiting when the day stops
    counters_open: int = 0  # counters open when the day stops


class _Simulation:
    """Discrete-event simulation of one branch; ``run`` returns its events."""

    def __init__(self, hall: SimulatedBranch, branch_id: str, start: datetime, rng: random.Random) -> None:
        self.hall, self.branch, self.start, self.rng = hall, branch_id, start, rng
        self.zone = ZoneInfo(hall.timezone)
        self.desks = {d.id: _Desk(d) for d in hall.desks}
        self.queues: dict[str, list[_Ticket]] = {s.id: [] for s in hall.services}
        self.numbers: Tally[str] = Tally()
        self.agenda: list[tuple[float, int, Callable[[float], None]]] = []
        self.scheduled = 0  # tie-breaker: same moment, first scheduled first
        self.events: list[CloudEvent] = []
        self.issued = 0

    # -- the agenda ---------------------------------------------------------
    def at(self, moment: float, action: Callable[[float], None]) -> None:
        self.scheduled += 1
        heapq.heappush(self.agenda, (moment, self.scheduled, action))

    def run(self, tickets: int, span: float, close_day: bool) -> list[CloudEvent]:
        for i, desk in enumerate(self.hall.desks):
            self.at(5.0 * i, partial(self.open, desk_id=desk.id))
        window = span * (0.85 if close_day else 0.95)
        for moment in sorted(
            self.rng.triangular(window * 0.01, window, window * 0.3) for _ in range(tickets)
        ):
            self.at(moment, self.arrive)
        desks = self.hall.desks
        self.at(span * 0.45, lambda t: self.request_pause(desks[min(1, len(desks) - 1)].id, t))
        if close_day:  # issuing has stopped: every counter closes once its queues are empty
            self.at(span * 0.9, self.close_all)
        else:  # a shift ends and leaves its tickets waiting (the oldest-ticket alert's case)
            self.at(span * 0.8, lambda t: self.request_close(desks[-1].id, t, drain=False))
        while self.agenda:
            moment, _, action = heapq.heappop(self.agenda)
            if not close_day and moment > span:
                break
            action(moment)
        return self.events

    # -- emitting -----------------------------------------------------------
    def emit(self, moment: float, subject: str, data: EventData) -> None:
        when = self.start + timedelta(seconds=moment)
        event_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        self.events.append(new_event(data, source=SOURCE, subject=subject, time=when, id=event_id))

    def stamp(self, moment: float) -> datetime:
        return self.start + timedelta(seconds=moment)

    def local_day(self, moment: float) -> date:
        return self.stamp(moment).astimezone(self.zone).date()

    def ticket_data(self, kind: EventType, ticket: _Ticket, desk: Desk | None, **extra: Any) -> EventData:
        """The event's data, through its model (the contract refuses what it must)."""
        fields = dict(
            ticket_id=ticket.id,
            number=ticket.number,
            branch_id=self.branch,
            timezone=self.hall.timezone,
            business_date=self.local_day(ticket.issued),
            service_id=ticket.service.id,
            service_name=ticket.service.name,
            agency_id=ticket.service.agency_id,
            agency_name=ticket.service.agency_name,
            counter_id=desk.id if desk else None,
            counter_name=desk.name if desk else None,
            zone=desk.zone if desk else None,
            priority=ticket.priority_group is not None,
            priority_group=ticket.priority_group,
            channel=ticket.channel,
            issued_at=self.stamp(ticket.issued),
            status=ticket.status,
        )
        return parse_data(kind, {**fields, **extra})

    def ticket_event(
        self, moment: float, kind: EventType, ticket: _Ticket, desk: Desk | None, **extra: Any
    ) -> None:
        self.emit(moment, ticket.id, self.ticket_data(kind, ticket, desk, **extra))

    def desk_event(self, moment: float, kind: EventType, state: _Desk) -> None:
        desk = state.desk
        data = DATA_MODELS[kind](
            counter_id=desk.id,
            counter_name=desk.name,
            branch_id=self.branch,
            timezone=self.hall.timezone,
            business_date=self.local_day(moment),
            zone=desk.zone,
            service_ids=tuple(desk.service_ids),
            status=state.status,
            operator=desk.operator,
        )
        self.emit(moment, desk.id, data)

    # -- counters -----------------------------------------------------------
    def open(self, moment: float, desk_id: str) -> None:
        state = self.desks[desk_id]
        state.status = "open"
        self.desk_event(moment, EventType.COUNTER_OPENED, state)
        self.dispatch(moment)

    def resume(self, moment: float, desk_id: str) -> None:
        if self.desks[desk_id].status == "paused":  # it may have closed during the break
            self.open(moment, desk_id)

    def request_pause(self, desk_id: str, moment: float) -> None:
        state = self.desks[desk_id]
        if state.status != "open":
            return
        if state.ticket is not None:
            state.pause_pending = True
            return
        self.pause(state, moment)

    def pause(self, state: _Desk, moment: float) -> None:
        state.status, state.pause_pending = "paused", False
        self.desk_event(moment, EventType.COUNTER_PAUSED, state)
        self.at(moment + BREAK, lambda t: self.resume(t, state.desk.id))

    def close_all(self, moment: float) -> None:
        for desk in self.hall.desks:
            self.request_close(desk.id, moment)

    def request_close(self, desk_id: str, moment: float, *, drain: bool = True) -> None:
        """Close after the current ticket and, with ``drain``, once nobody waits for it."""
        state = self.desks[desk_id]
        if state.status == "closed":
            return
        busy = state.ticket is not None
        if busy or (drain and state.status == "open" and self.waiting_for(state.desk)):
            state.close_pending, state.drain = True, drain
            return
        self.close(state, moment)

    def close(self, state: _Desk, moment: float) -> None:
        state.status, state.close_pending = "closed", False
        self.desk_event(moment, EventType.COUNTER_CLOSED, state)

    def waiting_for(self, desk: Desk) -> bool:
        return any(self.queues[s] for s in desk.service_ids)

    def free(self, state: _Desk, moment: float) -> None:
        state.ticket = None
        if state.pause_pending:
            self.pause(state, moment)
        elif state.close_pending and not (state.drain and self.waiting_for(state.desk)):
            self.close(state, moment)
        self.dispatch(moment)

    # -- tickets ------------------------------------------------------------
    def arrive(self, moment: float) -> None:
        rng, services = self.rng, self.hall.services
        service = rng.choices(services, weights=[s.weight for s in services])[0]
        self.numbers[service.prefix] += 1
        group = rng.choice(("lansia", "disabilitas", "ibu_hamil")) if rng.random() < 0.1 else None
        channel = "online" if rng.random() < 0.3 else "kiosk"
        ticket = _Ticket(
            id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            number=f"{service.prefix}{self.numbers[service.prefix]:03d}",
            service=service,
            priority_group=group,
            channel=channel,
            issued=moment,
            queued=moment,
        )
        self.issued += 1
        queue = self.queues[service.id]
        queue.append(ticket)
        desks = sum(1 for d in self.hall.desks if service.id in d.service_ids)
        position = len(queue)
        extra = {
            "position": position,
            "estimated_wait_seconds": int(position * service.mean_service / desks),
            "target_wait_seconds": service.target_wait,
        }
        self.ticket_event(moment, EventType.TICKET_ISSUED, ticket, None, **extra)
        if rng.random() < 0.08:  # some give up, most of them soon (a cancel from the phone)
            self.at(moment + rng.uniform(30.0, 900.0), lambda t: self.cancel(ticket, t))
        self.dispatch(moment)

    def cancel(self, ticket: _Ticket, moment: float) -> None:
        if ticket.status != "waiting":
            return
        self.queues[ticket.service.id].remove(ticket)
        ticket.status = "cancelled"
        self.ticket_event(moment, EventType.TICKET_CANCELLED, ticket, None)

    def dispatch(self, moment: float) -> None:
        for state in self.desks.values():
            if state.status != "open" or state.ticket is not None:
                continue
            candidates = [t for s in state.desk.service_ids for t in self.queues[s]]
            if not candidates:
                if state.close_pending:
                    self.close(state, moment)
                continue
            ticket = min(candidates, key=lambda t: (t.priority_group is None, t.queued))
            self.call(state, ticket, moment)

    def call(self, state: _Desk, ticket: _Ticket, moment: float) -> None:
        self.queues[ticket.service.id].remove(ticket)
        state.ticket, ticket.desk, ticket.status, ticket.recalls = ticket, state.desk, "called", 0
        extra = {"called_at": self.stamp(moment), "operator": state.desk.operator, "forced": False}
        self.ticket_event(moment, EventType.TICKET_CALLED, ticket, state.desk, **extra)
        self.after_call(state, ticket, moment)

    def after_call(self, state: _Desk, ticket: _Ticket, moment: float) -> None:
        present = 0.85 if ticket.recalls == 0 else 0.4  # who missed the first call often missed it for good
        if self.rng.random() < present:
            self.at(moment + self.rng.uniform(8.0, 90.0), lambda t: self.serve(state, ticket, t))
        elif ticket.recalls < MAX_RECALLS:
            self.at(moment + RECALL_AFTER, lambda t: self.recall(state, ticket, t))
        else:
            self.at(moment + RECALL_AFTER, lambda t: self.no_show(state, ticket, t))

    def recall(self, state: _Desk, ticket: _Ticket, moment: float) -> None:
        ticket.recalls += 1
        self.ticket_event(moment, EventType.TICKET_RECALLED, ticket, state.desk, recall_count=ticket.recalls)
        self.after_call(state, ticket, moment)

    def no_show(self, state: _Desk, ticket: _Ticket, moment: float) -> None:
        ticket.status = "no_show"
        self.ticket_event(moment, EventType.TICKET_NO_SHOW, ticket, state.desk, recall_count=ticket.recalls)
        self.free(state, moment)

    def serve(self, state: _Desk, ticket: _Ticket, moment: float) -> None:
        ticket.status, ticket.serving = "serving", moment
        self.ticket_event(moment, EventType.TICKET_SERVING, ticket, state.desk, serving_at=self.stamp(moment))
        length = max(60.0, self.rng.gammavariate(4.0, ticket.service.mean_service / 4.0))
        self.at(moment + length, lambda t: self.finish(state, ticket, t))

    def finish(self, state: _Desk, ticket: _Ticket, moment: float) -> None:
        if not ticket.transferred and self.rng.random() < 0.05:
            self.transfer(state, ticket, moment)
            return
        ticket.status = "completed"
        extra = {"completed_at": self.stamp(moment), "serving_at": self.stamp(ticket.serving)}
        self.ticket_event(moment, EventType.TICKET_COMPLETED, ticket, state.desk, **extra)
        if self.rng.random() < 0.4:
            self.at(moment + self.rng.uniform(30.0, 900.0), lambda t: self.survey(ticket, state.desk, t))
        self.free(state, moment)

    def transfer(self, state: _Desk, ticket: _Ticket, moment: float) -> None:
        old = ticket.service
        served = {s for d in self.desks.values() if d.status == "open" for s in d.desk.service_ids}
        choices = [s for s in self.hall.services if s.id != old.id and s.id in served] or [old]
        ticket.service = self.rng.choice(choices)
        ticket.status, ticket.transferred, ticket.queued, ticket.desk = "waiting", True, moment, None
        extra = {"from_service_id": old.id, "from_agency_id": old.agency_id, "from_counter_id": state.desk.id}
        self.ticket_event(moment, EventType.TICKET_TRANSFERRED, ticket, state.desk, **extra)
        self.queues[ticket.service.id].append(ticket)
        self.free(state, moment)

    def survey(self, ticket: _Ticket, desk: Desk, moment: float) -> None:
        mood = self.rng.random()
        scores = [min(4, max(1, round(self.rng.gauss(3.2 + mood * 0.6, 0.6)))) for _ in range(9)]
        data = SurveySubmitted(
            ticket_id=ticket.id,
            number=ticket.number,
            branch_id=self.branch,
            timezone=self.hall.timezone,
            business_date=self.local_day(moment),
            agency_id=ticket.service.agency_id,
            service_id=ticket.service.id,
            counter_id=desk.id,
            scores=tuple(scores),
            submitted_at=self.stamp(moment),
        )
        self.emit(moment, ticket.id, data)


def build_day(
    branch_id: str,
    *,
    tickets: int = 300,
    seed: int = 1,
    start: datetime,
    hours: float = 8.0,
    close_day: bool = False,
    first_sequence: int = 1,
    hall: SimulatedBranch | None = None,
) -> Day:
    """Simulate one hall day from ``start`` over ``hours`` of event time (pure, deterministic).

    Without ``close_day`` the day stops at ``start + hours`` with the hall still
    open (some tickets waiting, counters open); with it, issuing stops early,
    the queues drain and every counter closes.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    sim = _Simulation(hall or banjarbaru(), branch_id, start.astimezone(UTC), random.Random(seed))
    events = sim.run(tickets, hours * 3600.0, close_day)
    sequenced = tuple(e.with_sequence(first_sequence + i) for i, e in enumerate(events))
    return Day(
        events=sequenced,
        tickets=sim.issued,
        counts=dict(Tally(e.type.value for e in sequenced)),
        waiting=sum(len(queue) for queue in sim.queues.values()),
        counters_open=sum(1 for desk in sim.desks.values() if desk.status == "open"),
    )


def interleave(days: Sequence[Day]) -> list[CloudEvent]:
    """Several branches' days as one stream in time order; each branch keeps its own order."""
    return list(heapq.merge(*(day.events for day in days), key=lambda event: event.time))


@dataclass(frozen=True, slots=True)
class Summary:
    """What :func:`simulate_day` produced."""

    topic: str
    branch_id: str
    tickets: int
    events: int
    first_sequence: int
    last_sequence: int
    first_time: str
    last_time: str
    produce_seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    waiting: int = 0
    counters_open: int = 0


async def produce(bootstrap: str, topic: str, events: Sequence[CloudEvent]) -> None:
    """Send ``events`` in order (key = branch id) with an idempotent producer, then flush."""
    from aiokafka import AIOKafkaProducer  # kept here so the pure part imports no Kafka client

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        pending = [await producer.send(topic, encode(e), key=e.branchid.encode()) for e in events]
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def simulate_days(
    bootstrap: str,
    topic: str,
    branch_ids: Sequence[str],
    *,
    tickets: int = 300,
    seed: int = 1,
    start: datetime | None = None,
    hours: float = 8.0,
    close_day: bool = False,
    first_sequence: int = 1,
) -> list[Summary]:
    """Simulate one day in each branch (seed + i for the i-th) and produce them interleaved by time.

    Many branches on one topic is what a province-wide deployment sees; each
    branch keeps its own key and its own strictly increasing sequence.
    """
    loop = asyncio.get_running_loop()
    begin = start or datetime.now(UTC) - timedelta(hours=hours)
    days = [
        build_day(
            branch,
            tickets=tickets,
            seed=seed + i,
            start=begin,
            hours=hours,
            close_day=close_day,
            first_sequence=first_sequence,
        )
        for i, branch in enumerate(branch_ids)
    ]
    merged = interleave(days)
    started = loop.time()
    await produce(bootstrap, topic, merged)
    elapsed = round(loop.time() - started, 3)
    return [_summary(topic, branch, day, elapsed) for branch, day in zip(branch_ids, days, strict=True)]


async def simulate_day(
    bootstrap: str,
    topic: str,
    branch_id: str,
    *,
    tickets: int = 300,
    seed: int = 1,
    start: datetime | None = None,
    hours: float = 8.0,
    close_day: bool = False,
    first_sequence: int = 1,
) -> Summary:
    """Simulate a hall day and produce it onto ``topic``; by default the day ends now."""
    summaries = await simulate_days(
        bootstrap,
        topic,
        [branch_id],
        tickets=tickets,
        seed=seed,
        start=start,
        hours=hours,
        close_day=close_day,
        first_sequence=first_sequence,
    )
    return summaries[0]


def _summary(topic: str, branch_id: str, day: Day, produce_seconds: float) -> Summary:
    return Summary(
        topic=topic,
        branch_id=branch_id,
        tickets=day.tickets,
        events=len(day.events),
        first_sequence=day.events[0].sequence,
        last_sequence=day.events[-1].sequence,
        first_time=format_time(day.events[0].time),
        last_time=format_time(day.events[-1].time),
        produce_seconds=produce_seconds,
        counts=day.counts,
        waiting=day.waiting,
        counters_open=day.counters_open,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """The command line: simulate the day(s) and print the summary as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.simulate", description=__doc__.split("\n")[0])
    parser.add_argument("--bootstrap", default="localhost:9092")
    parser.add_argument("--topic", default="queue.events")
    parser.add_argument("--branch", default="sim-banjarbaru", help="branch id (a prefix with --branches)")
    parser.add_argument("--branches", type=int, default=1, help="simulate N branches: BRANCH-001 …")
    parser.add_argument("--tickets", type=int, default=300, help="tickets per branch")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument(
        "--start", type=datetime.fromisoformat, help="RFC 3339 with offset; default: now - hours"
    )
    parser.add_argument("--first-sequence", type=int, default=1)
    parser.add_argument("--close-day", action="store_true", help="drain the queues and close every counter")
    args = parser.parse_args(argv)
    if args.branches == 1:
        branches = [args.branch]
    else:
        branches = [f"{args.branch}-{i:03d}" for i in range(1, args.branches + 1)]
    summaries = asyncio.run(
        simulate_days(
            args.bootstrap,
            args.topic,
            branches,
            tickets=args.tickets,
            seed=args.seed,
            start=args.start,
            hours=args.hours,
            close_day=args.close_day,
            first_sequence=args.first_sequence,
        )
    )
    if len(summaries) == 1:
        print(json.dumps(asdict(summaries[0]), indent=2))
        return
    total = sum(s.events for s in summaries)
    seconds = summaries[0].produce_seconds
    report = {
        "topic": args.topic,
        "branches": len(summaries),
        "tickets": sum(s.tickets for s in summaries),
        "events": total,
        "produce_seconds": seconds,
        "events_per_second": round(total / seconds) if seconds else None,
        "first_time": min(s.first_time for s in summaries),
        "last_time": max(s.last_time for s in summaries),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
