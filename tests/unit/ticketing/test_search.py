"""The kiosk search: Indonesian words, missing words and typos forgiven, on the real demo hall."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from services.ticketing.domain.search import (
    MIN_SCORE,
    STOPWORDS,
    Searchable,
    edit_distance,
    query_words,
    score,
    search,
    words,
)

HALL = Path(__file__).parents[3] / "deploy" / "halls" / "banjarbaru.yaml"


def hall_services() -> list[Searchable]:
    doc = yaml.safe_load(HALL.read_text(encoding="utf-8"))
    return [
        Searchable(s["id"], s["name"], a["name"], s["prefix"]) for a in doc["agencies"] for s in a["services"]
    ]


SERVICES = hall_services()
# 150+ services: the demo hall's 61 and as many again under other agencies' names.
MANY = SERVICES + [
    Searchable(f"{s.service_id}-{i}", s.name, f"Instansi {i}", s.prefix) for i in (2, 3) for s in SERVICES
]


def top(query: str, services: list[Searchable] = SERVICES, n: int = 3) -> list[str]:
    return [s.service_id for s, _ in search(query, services, limit=n)]


def test_the_demo_hall_is_big_enough() -> None:
    assert len(SERVICES) >= 60
    assert len(MANY) >= 150


def test_everyday_queries_find_their_service_first() -> None:
    assert top("akta lahir")[0] == "bjb-akta-lahir"
    assert top("aktta kelahirn")[0] == "bjb-akta-lahir"  # two typos
    assert top("mau bikin paspor")[0] in {"bjb-paspor-baru", "bjb-paspor-ganti"}
    assert "bjb-skck-baru" in top("skck")
    assert top("kartu keluarga")[0] == "bjb-kk"
    assert top("KARTU   Keluarga!")[0] == "bjb-kk"
    assert set(top("nikah", n=2)) == {"bjb-nikah", "bjb-legalisasi-nikah"}


def test_a_query_with_no_meaning_finds_nothing() -> None:
    assert search("", SERVICES) == []
    assert search("mau untuk yang", SERVICES) == []
    assert search("zzzzqqq", SERVICES) == []


def service_ids() -> st.SearchStrategy[Searchable]:
    return st.sampled_from(SERVICES)


@settings(max_examples=30, deadline=None)
@given(service_ids())
def test_the_exact_name_scores_one_and_is_among_the_first(service: Searchable) -> None:
    assert score(service.name, service) == 1.0
    found = search(service.name, MANY, limit=12)
    assert found[0][1] == 1.0
    assert service.service_id in [s.service_id for s, _ in found]


@settings(max_examples=40, deadline=None)
@given(service_ids(), st.data())
def test_one_typo_in_a_long_word_still_finds_the_service(service: Searchable, data: st.DataObject) -> None:
    long_words = [w for w in words(service.name) if len(w) >= 5 and w not in STOPWORDS]
    assume(long_words)
    word = data.draw(st.sampled_from(long_words))
    i = data.draw(st.integers(0, len(word) - 1))
    kind = data.draw(st.sampled_from(["drop", "swap", "replace"]))
    if kind == "drop":
        typo = word[:i] + word[i + 1 :]
    elif kind == "swap" and i < len(word) - 1:
        typo = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    else:
        typo = word[:i] + ("x" if word[i] != "x" else "y") + word[i + 1 :]
    assert edit_distance(word, typo) <= 1
    assert score(typo, service) >= MIN_SCORE
    assert service.service_id in [s.service_id for s, _ in search(typo, SERVICES, limit=len(SERVICES))]


@settings(max_examples=30, deadline=None)
@given(service_ids(), st.data())
def test_a_missing_word_still_finds_the_service(service: Searchable, data: st.DataObject) -> None:
    own = query_words(service.name)
    assume(len(own) >= 2)
    dropped = data.draw(st.integers(0, len(own) - 1))
    query = " ".join(w for k, w in enumerate(own) if k != dropped)
    assert score(query, service) == 1.0


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=60), service_ids())
def test_any_query_scores_within_zero_and_one(query: str, service: Searchable) -> None:
    assert 0.0 <= score(query, service) <= 1.0


@settings(max_examples=40, deadline=None)
@given(service_ids(), st.sampled_from(sorted(STOPWORDS)))
def test_case_accents_and_filler_words_change_nothing(service: Searchable, filler: str) -> None:
    plain = score(service.name, service)
    assert score(service.name.upper(), service) == plain
    assert score(f"{filler} {service.name}", service) == plain
    assert score(service.name.replace("e", "é"), service) == plain


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=40), st.integers(1, 20))
def test_results_are_ordered_bounded_and_above_the_floor(query: str, limit: int) -> None:
    found = search(query, SERVICES, limit=limit)
    assert len(found) <= limit
    values = [v for _, v in found]
    assert values == sorted(values, reverse=True)
    assert all(v >= MIN_SCORE for v in values)


@given(st.text(alphabet="abcdefgh", max_size=8), st.text(alphabet="abcdefgh", max_size=8))
def test_edit_distance_is_symmetric_and_capped(a: str, b: str) -> None:
    assert edit_distance(a, b) == edit_distance(b, a)
    assert (edit_distance(a, b) == 0) == (a == b)
    assert edit_distance(a, b) <= 3
