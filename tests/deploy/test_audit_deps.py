"""How `make lint` audits the pins when PyPI serves only the project endpoint."""

from __future__ import annotations

import pytest

from deploy.local import audit_deps
from deploy.local.audit_deps import latest_release_advisories


def project(latest: str, vulns: list[dict[str, object]] | None) -> dict[str, object]:
    answer: dict[str, object] = {"info": {"name": "example", "version": latest}}
    if vulns is not None:
        answer["vulnerabilities"] = vulns
    return answer


def test_a_pin_at_the_latest_release_gets_the_latest_releases_advisories() -> None:
    vulns = [{"id": "PYSEC-1", "aliases": ["CVE-1"]}, {"id": "GHSA-2", "aliases": [], "withdrawn": None}]
    result = latest_release_advisories("1.2.3", project("1.2.3", vulns))
    assert result.audited
    assert result.advisories == ("PYSEC-1", "GHSA-2")


def test_a_pin_behind_the_latest_release_is_not_audited_and_says_so() -> None:
    """The endpoint's advisories are the latest release's: one fixed there would be missed for the pin."""
    result = latest_release_advisories("1.2.2", project("1.2.3", []))
    assert not result.audited
    assert result.latest == "1.2.3"
    assert result.advisories == ()


def test_an_answer_without_advisories_is_not_taken_for_a_clean_one() -> None:
    assert not latest_release_advisories("1.2.3", project("1.2.3", None)).audited


def test_withdrawn_advisories_and_ignored_ones_by_any_alias_do_not_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        audit_deps, "IGNORED", {"CVE-9": "does not apply: we never call the affected function"}
    )
    vulns = [
        {"id": "PYSEC-8", "aliases": [], "withdrawn": "2026-01-01T00:00:00Z"},
        {"id": "GHSA-9", "aliases": ["CVE-9"]},
        {"id": "PYSEC-10", "aliases": ["CVE-10"]},
    ]
    result = latest_release_advisories("2.0", project("2.0", vulns))
    assert result.audited
    assert result.advisories == ("PYSEC-10",)


@pytest.mark.parametrize(
    ("name", "expected"), [("PyYAML", "pyyaml"), ("zope.interface", "zope-interface"), ("a__b", "a-b")]
)
def test_names_compare_as_pypi_compares_them(name: str, expected: str) -> None:
    assert audit_deps.canonical(name) == expected
