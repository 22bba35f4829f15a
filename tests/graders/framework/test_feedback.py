"""Feedback levels and hints: each distinct hint once; ``codes`` without hints; ``score`` pass/fail only.

The level is the exercise's (``feedback`` in metadata.toml), applied by the one grading path,
so the CLI, the notebook ``check()``, the pytest file and the service all tell the same.
"""

from __future__ import annotations

import pathlib
import shutil

import pytest
from typer.testing import CliRunner

import exercises
import nngrade
from graders.framework import feedback
from graders.framework.checks import DTYPE_HINT, SQUEEZE_HINT
from graders.framework.report import CaseReport
from service.grading import grade_file

ROOT = pathlib.Path(__file__).resolve().parents[3]
DENSE = ROOT / "tests" / "graders" / "solutions" / "dense"


def grade(runner, name: str, level: str | None = None, include_hidden: bool = True):
    path = DENSE / name
    return grade_file("dense", path.name, path.read_bytes(), include_hidden=include_hidden, seed=11, runner=runner,
                      feedback=level)


def hint_lines(report) -> list[str]:
    return [line for t in report.tests for line in t.message.splitlines() if line.startswith("Hint: ")]


# --------------------------------------------------------------------------- hints


def test_each_distinct_hint_is_shown_once_in_the_first_row_that_needs_it(runner):
    report = grade(runner, "dW_transposed.py")
    failing = [t for t in report.tests if "dW-transposed" in t.diagnoses]
    assert len(failing) >= 4
    hints = hint_lines(report)
    assert len(hints) == len(set(hints)), hints
    transposed = [h for h in hints if "shaped like W" in h]
    assert len(transposed) == 1 and transposed[0] in failing[0].message
    # every failing row still says what went wrong, without the code written into the text
    assert all("Your dW is the transpose of the gradient" in t.message for t in failing)
    assert not [t.message for t in report.tests if "(dW-transposed)" in t.message]


def test_a_hint_appears_only_where_its_problem_is(runner):
    values_only = grade(runner, "grad_averaged.py")
    assert not [h for h in hint_lines(values_only) if SQUEEZE_HINT in h or DTYPE_HINT in h]
    dtype = grade(runner, "float64_always.py")
    assert [h for h in hint_lines(dtype) if DTYPE_HINT in h] == [f"Hint: {DTYPE_HINT}"]
    squeezed = grade(runner, "squeezed.py")
    assert [h for h in hint_lines(squeezed) if SQUEEZE_HINT in h] == [f"Hint: {SQUEEZE_HINT}"]


def test_hints_point_at_the_statement_not_at_a_line_of_code(runner):
    for name in ("dW_transposed.py", "grad_averaged.py", "db_wrong_axis.py", "dX_W_transpose.py"):
        for hint in hint_lines(grade(runner, name)):
            assert "statement, '" in hint, hint
            assert "dY.T @ X" not in hint and "dY.sum(axis=0)" not in hint and "dY @ W" not in hint, hint


# --------------------------------------------------------------------------- levels


def test_codes_level_keeps_the_diagnosis_and_the_failing_property_but_no_hint(runner):
    hints, codes = grade(runner, "dW_transposed.py"), grade(runner, "dW_transposed.py", "codes")
    assert hint_lines(codes) == []
    assert codes.diagnoses == hints.diagnoses
    assert [(t.name, t.outcome, t.score, t.diagnoses) for t in codes.tests] == \
        [(t.name, t.outcome, t.score, t.diagnoses) for t in hints.tests]
    small = next(t for t in codes.tests if t.name == "backward: small batch")
    assert "dW has shape (4, 3); expected (3, 4)" in small.message
    assert "Your dW is the transpose of the gradient" in small.message


def test_score_level_says_pass_or_fail_per_visible_case_only(runner):
    full, exam = grade(runner, "dW_transposed.py"), grade(runner, "dW_transposed.py", "score")
    assert exam.score == full.score and exam.max_score == full.max_score
    assert exam.diagnoses == [] and exam.message == feedback.SCORE_NOTE
    visible = [t for t in full.tests if t.visibility == "visible"]
    assert [(t.name, t.outcome, t.score) for t in exam.tests[:-1]] == [(t.name, t.outcome, t.score) for t in visible]
    assert all(t.message == "" and t.diagnoses == [] for t in exam.tests)
    hidden = exam.tests[-1]
    assert (hidden.name, hidden.visibility, hidden.outcome) == (feedback.HIDDEN_ROW, "hidden", "fail")
    assert hidden.score == pytest.approx(sum(t.score for t in full.tests if t.visibility == "hidden"))


def test_score_level_folds_errors_into_fail():
    tests = [CaseReport(name="a", visibility="visible", score=0, max_score=1, outcome="timeout", message="slow",
                        diagnoses=["timeout"]),
             CaseReport(name="b", visibility="visible", score=1, max_score=1, outcome="pass", message="")]
    shown = feedback.compose(tests, [[], []], "score")
    assert [(t.outcome, t.message, t.diagnoses) for t in shown] == [("fail", "", []), ("pass", "", [])]


def test_an_unknown_level_is_refused():
    with pytest.raises(feedback.UnknownLevel, match="hints, codes, score"):
        feedback.check_level("verbose")


def test_every_exercise_declares_a_known_level():
    assert {ex.feedback for ex in exercises.all_exercises()} <= set(feedback.LEVELS)


# --------------------------------------------------------------------------- the exercise's level everywhere


def test_the_cli_honours_the_exercises_level(exam_catalog):
    from service.cli import app

    done = CliRunner().invoke(app, ["check", "dense", str(DENSE / "dW_transposed.py"), "--json", "--in-process"])
    assert done.exit_code == 1, done.output
    report = nngrade.Report.model_validate_json(done.stdout)
    assert report.diagnoses == [] and all(t.message == "" for t in report.tests)
    assert {t.outcome for t in report.tests} == {"pass", "fail"}


def test_the_notebook_check_and_the_pytest_file_honour_the_exercises_level(exam_catalog):
    namespace: dict = {}
    exec(compile((DENSE / "dW_transposed.py").read_text(), "cell0.py", "exec"), namespace)
    report = nngrade.check("dense", namespace, show=False)
    assert report.diagnoses == [] and all(t.message == "" for t in report.tests)
    failed = next(t.name for t in report.tests if t.outcome == "fail")
    with pytest.raises(pytest.fail.Exception) as raised:
        nngrade.assert_case(report, failed)
    text = str(raised.value)
    assert "fail" in text and "dW" not in text and "[" not in text.splitlines()[0]
