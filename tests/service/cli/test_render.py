"""How a report reads on a terminal: the numbers and the lines a person sees."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from graders.framework.report import CaseReport, Report
from service.cli.render import number, points, print_report


@pytest.mark.parametrize("value, shown", [
    (19, "19"), (19.0, "19"), (0, "0"), (1.333333, "1.33"), (0.666667, "0.67"), (11.333333, "11.33"),
    (0.5, "0.50"), (1.999999, "2"), (0.004, "0"),
])
def test_a_score_is_a_whole_number_or_has_two_decimals(value, shown):
    assert number(value) == shown


def test_points_is_score_slash_maximum():
    assert points(11.333333, 19.0) == "11.33 / 19"


def printed(report: Report) -> str:
    out = io.StringIO()
    print_report(report, Console(file=out, width=120))
    return out.getvalue()


def report(**fields) -> Report:
    return Report(**{"exercise": "dense", "exercise_version": "1.0.0", "status": "graded", "score": 0.0,
                     "max_score": 15.0, "seed": 1, **fields})


def test_a_report_without_tests_prints_its_message_instead_of_a_table():
    text = printed(report(diagnoses=["missing-function"],
                          message="dense.py is empty: it defines none of dense_forward, dense_backward."))
    assert text.splitlines()[0] == "dense.py is empty: it defines none of dense_forward, dense_backward."
    assert "Score: 0 / 15" in text and "┃" not in text


def test_a_note_repeated_in_every_row_is_not_printed_again():
    note = "The service could not grade this submission."
    case = CaseReport(name="forward: small batch", visibility="visible", score=0, max_score=2, outcome="error",
                      message=note, diagnoses=["crashed"])
    assert printed(report(tests=[case], message=note)).count(note) == 1
