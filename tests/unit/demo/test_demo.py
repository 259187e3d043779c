"""The demo driver's pure part: arrivals, the service mix, the visits, the survey, the arguments."""

from __future__ import annotations

import random
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from deploy.local.demo import (
    MIN_SERVICE,
    PRIORITY_GROUPS,
    Record,
    Reply,
    Service,
    ServiceMix,
    SetupFailed,
    admin_password,
    choose_counters,
    idle_poll,
    ikm_index,
    new_citizen,
    next_arrival,
    parse_args,
    plan_visit,
    service_mix,
    summary,
    survey_scores,
    transfer_target,
)

# What GET /api/v1/branches/jkt answers, trimmed to what the demo reads.
JKT: dict[str, Any] = {
    "id": "jkt",
    "services": [
        {
            "id": "jkt-ktp-el",
            "agency_id": "jkt-disdukcapil",
            "name": "Perekaman KTP-el",
            "daily_quota": 200,
            "expected_service_seconds": 360,
        },
        {
            "id": "jkt-kk",
            "agency_id": "jkt-disdukcapil",
            "name": "Kartu Keluarga",
            "daily_quota": 150,
            "expected_service_seconds": 480,
        },
        {
            "id": "jkt-pkb",
            "agency_id": "jkt-samsat",
            "name": "Pajak Kendaraan",
            "daily_quota": 300,
            "expected_service_seconds": 240,
        },
        {
            "id": "jkt-jkn",
            "agency_id": "jkt-bpjs-kesehatan",
            "name": "Layanan JKN",
            "daily_quota": 150,
            "expected_service_seconds": None,
        },
    ],
    "counters": [
        {"id": "jkt-loket-01", "name": "Loket 1", "service_ids": ["jkt-ktp-el", "jkt-kk"]},
        {"id": "jkt-loket-02", "name": "Loket 2", "service_ids": ["jkt-kk", "jkt-ktp-el"]},
        {"id": "jkt-loket-03", "name": "Loket 3", "service_ids": ["jkt-pkb"]},
        {"id": "jkt-loket-04", "name": "Loket 4", "service_ids": ["jkt-jkn"]},
    ],
}


# -- arrivals ----------------------------------------------------------------
def test_arrivals_are_a_poisson_process_at_the_rate_asked() -> None:
    rng = random.Random(1)
    gaps = [next_arrival(rng, 20.0) for _ in range(20_000)]
    assert min(gaps) > 0
    assert statistics.fmean(gaps) == pytest.approx(3.0, rel=0.03)  # 20 a minute: one every 3 s
    # Exponential gaps: the standard deviation equals the mean (a regular clock would have none).
    assert statistics.stdev(gaps) / statistics.fmean(gaps) == pytest.approx(1.0, abs=0.05)
    # Counted per minute, the arrivals are Poisson: the variance equals the mean.
    per_minute = Counter(int(t // 60) for t in _cumulative(gaps))
    counts = [per_minute[m] for m in range(int(sum(gaps) // 60))]
    assert statistics.fmean(counts) == pytest.approx(20.0, rel=0.05)
    assert statistics.variance(counts) == pytest.approx(20.0, rel=0.25)


def _cumulative(gaps: list[float]) -> list[float]:
    total, out = 0.0, []
    for gap in gaps:
        total += gap
        out.append(total)
    return out


def test_the_same_seed_brings_the_same_citizens() -> None:
    def citizens(seed: int) -> list[Any]:
        rng = random.Random(seed)
        return [(next_arrival(rng, 12), new_citizen(rng)) for _ in range(50)]

    assert citizens(7) == citizens(7)
    assert citizens(7) != citizens(8)


def test_about_one_citizen_in_ten_is_a_priority_and_three_in_ten_come_online() -> None:
    rng = random.Random(2)
    people = [new_citizen(rng) for _ in range(20_000)]
    groups = Counter(p.priority_group for p in people)
    assert set(groups) == {None, *PRIORITY_GROUPS}
    assert 1 - groups[None] / len(people) == pytest.approx(0.10, abs=0.01)
    assert sum(p.channel == "online" for p in people) / len(people) == pytest.approx(0.30, abs=0.015)
    assert {p.channel for p in people} == {"kiosk", "online"}


# -- the service mix and the counters ------------------------------------------
def test_counters_are_chosen_to_serve_as_many_services_as_possible() -> None:
    ids = [c["id"] for c in choose_counters(JKT["counters"], 3)]
    assert ids == ["jkt-loket-01", "jkt-loket-03", "jkt-loket-04"]  # loket 2 adds nothing new
    assert len(choose_counters(JKT["counters"], 99)) == 4
    assert [c["id"] for c in choose_counters(JKT["counters"], 1)] == ["jkt-loket-01"]


def test_the_mix_holds_only_services_an_open_counter_serves_weighted_by_quota() -> None:
    mix = service_mix(JKT, choose_counters(JKT["counters"], 2))
    assert [(s.id, s.weight) for s in mix.services] == [
        ("jkt-ktp-el", 200.0),
        ("jkt-kk", 150.0),
        ("jkt-pkb", 300.0),
    ]
    everything = service_mix(JKT, JKT["counters"])
    jkn = everything.get("jkt-jkn")
    assert jkn is not None
    assert jkn.service_seconds == 300.0  # no expected time given: five minutes


def test_picks_follow_the_weights_and_never_an_excluded_service() -> None:
    mix = service_mix(JKT, JKT["counters"])
    rng = random.Random(3)
    picks = Counter(s.id for s in (mix.pick(rng) for _ in range(40_000)) if s)
    total = sum(s.weight for s in mix.services)
    for service in mix.services:
        assert picks[service.id] / 40_000 == pytest.approx(service.weight / total, abs=0.01)
    closed = frozenset({"jkt-pkb", "jkt-kk"})
    assert {s.id for s in (mix.pick(rng, closed) for _ in range(500)) if s} == {"jkt-ktp-el", "jkt-jkn"}
    assert mix.pick(rng, frozenset(s.id for s in mix.services)) is None


def test_a_transfer_stays_within_the_agency_when_it_can() -> None:
    mix = service_mix(JKT, JKT["counters"])
    rng = random.Random(8)
    assert {getattr(transfer_target(mix, rng, "jkt-ktp-el"), "id", None) for _ in range(200)} == {"jkt-kk"}
    elsewhere = {getattr(transfer_target(mix, rng, "jkt-pkb"), "id", None) for _ in range(500)}
    assert elsewhere == {"jkt-ktp-el", "jkt-kk", "jkt-jkn"}  # Samsat has one service: any other will do
    alone = ServiceMix([Service("a", "A", 1.0, 60.0)])
    assert transfer_target(alone, rng, "a") is None


def test_a_mix_needs_a_service() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ServiceMix([])
    assert ServiceMix([Service("a", "A", 1.0, 60.0)]).get("b") is None


# -- what happens at the counter -------------------------------------------------
def test_visits_recall_at_most_twice_and_a_no_show_is_recalled_twice_first() -> None:
    rng = random.Random(4)
    visits = [plan_visit(rng, 360.0) for _ in range(20_000)]
    assert {v.recalls for v in visits} == {0, 1, 2}
    assert all(v.recalls == 2 for v in visits if v.no_show)
    share = Counter(v.recalls for v in visits if not v.no_show)
    assert share[0] / sum(share.values()) == pytest.approx(0.84, abs=0.015)
    assert sum(v.no_show for v in visits) / len(visits) == pytest.approx(0.04, abs=0.007)
    assert sum(v.transfer for v in visits) / len(visits) == pytest.approx(0.05, abs=0.007)
    assert sum(v.survey for v in visits) / len(visits) == pytest.approx(0.6, abs=0.015)


def test_service_times_centre_on_the_services_expected_time_never_below_the_floor() -> None:
    rng = random.Random(5)
    times = [plan_visit(rng, 480.0).service for _ in range(20_000)]
    assert min(times) >= MIN_SERVICE
    assert statistics.fmean(times) == pytest.approx(480.0, rel=0.03)
    assert statistics.stdev(times) > 100  # not a metronome: real service times vary


def test_idle_counters_poll_neither_too_fast_nor_too_slow() -> None:
    assert idle_poll(60.0) == 0.5
    assert idle_poll(10_000.0) == 0.3
    assert idle_poll(1.0) == 2.0


# -- the survey ----------------------------------------------------------------------
def test_survey_answers_are_nine_scores_from_1_to_4_mostly_3_and_4() -> None:
    rng = random.Random(6)
    answers = [survey_scores(rng) for _ in range(5_000)]
    assert all(len(a) == 9 and set(a) <= {1, 2, 3, 4} for a in answers)
    scores = Counter(s for a in answers for s in a)
    assert set(scores) == {1, 2, 3, 4}  # some citizens are unhappy, and say so
    assert (scores[3] + scores[4]) / scores.total() > 0.85
    index = ikm_index(answers)
    assert index is not None
    assert 85.0 < index < 92.0  # grade B to A, like real halls (Banjarbaru: 87 to 92)


def test_the_ikm_index_is_the_mean_of_element_means_times_25() -> None:
    assert ikm_index([]) is None
    assert ikm_index([[4] * 9]) == 100.0
    assert ikm_index([[1] * 9]) == 25.0
    worked = [[4, 3, 4, 3, 4, 4, 3, 4, 3], [3, 3, 4, 2, 3, 4, 4, 3, 3], [4, 4, 3, 3, 4, 3, 4, 4, 2]]
    assert ikm_index(worked) == 85.19  # the worked example of tests/unit/metrics/test_ikm.py


# -- the command line -------------------------------------------------------------------
def test_defaults_follow_the_stacks_ticketing_port() -> None:
    options = parse_args([], {"TICKETING_PORT": "18280"})
    assert options.url == "http://127.0.0.1:18280"
    assert (options.branch, options.counters, options.rate, options.speed) == ("jkt", 4, 20.0, 60.0)
    assert (options.duration, options.seed, options.report) == (None, None, None)
    assert parse_args([], {}).url == "http://127.0.0.1:8080"


def test_every_option_is_read() -> None:
    argv = "--url http://hall:9000/ --branch bjb --counters 6 --rate 30 --speed 120 --duration 10"
    options = parse_args([*argv.split(), "--seed", "7", "--report", "out.json"], {"TICKETING_PORT": "1"})
    assert options.url == "http://hall:9000"
    assert (options.branch, options.counters, options.rate, options.speed) == ("bjb", 6, 30.0, 120.0)
    assert (options.duration, options.seed, options.report) == (10.0, 7, Path("out.json"))


@pytest.mark.parametrize(
    "argv",
    [["--rate", "0"], ["--speed", "-1"], ["--counters", "0"], ["--counters", "1.5"], ["--duration", "x"]],
)
def test_nonsense_values_stop_with_a_usage_message(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        parse_args(argv, {})
    assert stopped.value.code == 2
    assert argv[0] in capsys.readouterr().err


def test_the_admin_password_comes_from_the_environment_then_the_stacks_file(tmp_path: Path) -> None:
    file = tmp_path / "admin-password"
    file.write_text("from-file\n")
    assert admin_password({"ANTRIAN_ADMIN_PASSWORD": "from-env"}, file) == "from-env"
    assert admin_password({}, file) == "from-file"
    file.write_text("")
    with pytest.raises(SetupFailed, match="ANTRIAN_ADMIN_PASSWORD"):
        admin_password({}, file)
    with pytest.raises(SetupFailed, match="make up"):
        admin_password({}, tmp_path / "missing")


# -- what the log says ----------------------------------------------------------------
def test_a_problem_is_told_by_its_status_and_detail() -> None:
    refused = Reply(
        409, {"type": "urn:antrian:problem:issuing-refused", "detail": "Kuota habis.", "reason": "quota"}
    )
    assert refused.problem == "409 Kuota habis."
    assert refused.field("reason") == "quota"
    assert Reply(502, "Bad Gateway").problem == "502 Bad Gateway"
    assert Reply(204, None).field("detail") is None


def test_the_summary_counts_every_outcome() -> None:
    record = Record()
    for outcome in ("issued", "issued", "kiosk", "online", "called", "completed", "surveys"):
        record.note(outcome, "t-1" if outcome == "issued" else None)
    record.answers.append([4] * 9)
    text = summary(record, 12.3, 5)
    assert text.startswith("demo summary after 12 s: issued 2 (kiosk 1, online 1, priority 0)")
    for part in ("completed 1", "surveys 1 (IKM 100.00)", "still waiting 5"):
        assert part in text
    assert record.ids == {"issued": ["t-1", "t-1"]}
    assert "still waiting ?" in summary(Record(), 0, None)
