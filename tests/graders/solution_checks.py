"""Assertions shared by the graders' tests on solution files (imported by ``test_<exercise>.py``)."""

from __future__ import annotations

import json
import re

from graders.framework import codes

#: A value shown as the expected one ("expected 0.35"), which hidden feedback must never contain
#: (a shape, "expected (3, 2)", is no value).
EXPECTED_VALUE = re.compile(r"expected -?[\d.]")


def contract_codes(exercise: str) -> set[str]:
    """The codes the contract names for ``exercise`` itself (from the registry, which a test holds to the contract)."""
    return {c.code for c in codes.for_exercise(exercise) if c.contract and c.scope != codes.ANY}


def failures(report) -> list[tuple[str, str]]:
    """(case name, message) of every case that did not pass: the assertion message of a test."""
    return [(t.name, t.message) for t in report.tests if t.outcome != "pass"]


def assert_full_marks(report) -> None:
    assert report.hidden_included
    assert report.score == report.max_score, failures(report)
    assert report.diagnoses == []


def assert_codes_registered(report) -> None:
    """Every code of the report is one the registry lists for its exercise."""
    allowed = {c.code for c in codes.for_exercise(report.exercise)}
    assert set(report.diagnoses) <= allowed, set(report.diagnoses) - allowed


def assert_diagnosed(report, expected_codes) -> None:
    for code in expected_codes:
        assert code in report.diagnoses, (code, failures(report))
    assert report.score < report.max_score
    assert_codes_registered(report)


def assert_hidden_feedback_shows_no_expected_values(report) -> None:
    hidden = [t for t in report.tests if t.visibility == "hidden" and t.outcome == "fail"]
    assert hidden, "no hidden case failed: choose a solution that fails some"
    assert not [t.message for t in hidden if EXPECTED_VALUE.search(t.message)]


def assert_cli_report(done, exercise: str, *, full: bool, code: str = "") -> dict:
    """Check the output of ``nngrade check EXERCISE FILE --json --all``; returns the report."""
    report = json.loads(done.stdout)
    assert done.returncode == (0 if full else 1), done.stderr
    assert report["exercise"] == exercise
    assert report["status"] == "graded"
    assert report["hidden_included"] is True
    assert {t["visibility"] for t in report["tests"]} == {"visible", "hidden"}
    if full:
        assert report["score"] == report["max_score"]
        assert report["diagnoses"] == []
    else:
        assert report["score"] < report["max_score"]
        assert code in report["diagnoses"]
        assert any(code in t["diagnoses"] for t in report["tests"])
    return report
