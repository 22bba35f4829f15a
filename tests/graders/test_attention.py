"""The `attention` grader: correct variants get full marks, every named mistake is detected."""

from __future__ import annotations

import json
import pathlib

import pytest
from solution_checks import assert_codes_registered, contract_codes

ROOT = pathlib.Path(__file__).resolve().parents[2]
FOLDER = ROOT / "tests" / "graders" / "solutions" / "attention"

CORRECT = ["correct_vectorized.py", "correct_logsumexp.py", "correct_loops.py"]

#: file -> the diagnosis codes its report must contain
WRONG = {
    "softmax_default_axis0.py": ["softmax-wrong-axis"],
    "attention_columns.py": ["softmax-wrong-axis"],
    "axis_ignored.py": ["axis-ignored"],
    "axis_hardcoded_1.py": ["axis-ignored"],
    "missing_keepdims.py": ["rows-not-normalised"],
    "total_sum.py": ["rows-not-normalised"],
    "no_exp.py": ["rows-not-normalised"],
    "missing_scale.py": ["missing-scale"],
    "scale_by_dk.py": ["scale-by-dk"],
    "scale_by_keys.py": ["scale-by-keys"],
    "scale_after_softmax.py": ["scale-after-softmax"],
    "naive_softmax.py": ["softmax-overflow", "not-finite"],
    "out_transposed.py": ["out-transposed"],
    "out_uses_a_t.py": ["out-transposed"],
    "counterexample_identity.py": ["counterexample-invalid"],
    "counterexample_equal.py": ["counterexample-invalid"],
    "counterexample_overflow.py": ["counterexample-invalid"],
    "counterexample_unit_norm.py": ["counterexample-invalid"],
    "inplace_shift.py": ["input-mutated"],
}
CONTRACT_CODES = contract_codes("attention")


def failures(report) -> list[tuple[str, str]]:
    return [(t.name, t.message) for t in report.tests if t.outcome != "pass"]


@pytest.mark.parametrize("seed", [4, 987654321])
@pytest.mark.parametrize("name", ["reference", *CORRECT])
def test_correct_solutions_get_full_marks(grade_file, name, seed):
    path = ROOT / "reference" / "attention.py" if name == "reference" else FOLDER / name
    report = grade_file("attention", path, seed=seed)
    assert report.hidden_included and report.diagnoses == []
    assert report.score == report.max_score, failures(report)


@pytest.mark.parametrize("name, codes", sorted(WRONG.items()))
def test_wrong_solution_is_diagnosed(grade_file, name, codes):
    report = grade_file("attention", FOLDER / name, seed=11)
    assert set(codes) <= set(report.diagnoses), (codes, failures(report))
    assert report.score < report.max_score
    assert_codes_registered(report)


def test_each_contract_code_has_a_wrong_solution_and_every_file_is_tabled():
    assert CONTRACT_CODES <= {code for codes in WRONG.values() for code in codes}
    assert set(WRONG) | set(CORRECT) == {p.name for p in FOLDER.glob("*.py")}


def test_wrong_axis_is_named_where_it_happens(grade_file):
    report = grade_file("attention", FOLDER / "axis_ignored.py", include_hidden=False)
    by_name = {t.name: t for t in report.tests}
    axes = by_name["softmax honours axis: axis=0, and a 3-D input"]
    assert axes.diagnoses == ["axis-ignored"]
    assert "Called with axis=0, your softmax normalised along axis 1 (the last axis)" in axes.message
    assert by_name["softmax: rows of a score matrix (default axis)"].outcome == "pass"


def test_rows_not_normalised_reports_the_row_sums(grade_file):
    report = grade_file("attention", FOLDER / "total_sum.py", include_hidden=False)
    case = next(t for t in report.tests if t.name == "attention: self-attention, T = 4, d_k = 3")
    assert "rows-not-normalised" in case.diagnoses
    assert "The sums of A along axis 1 range from" in case.message


def test_hidden_feedback_never_shows_expected_values(grade_file):
    report = grade_file("attention", FOLDER / "missing_scale.py", seed=2)
    hidden = [t for t in report.tests if t.visibility == "hidden" and t.outcome != "pass"]
    assert hidden
    assert all("expected" not in t.message for t in hidden)


def test_cli_grades_a_wrong_file_with_hidden_cases(nngrade_cli):
    done = nngrade_cli("check", "attention", str(FOLDER / "scale_by_dk.py"), "--json", "--all")
    report = json.loads(done.stdout)
    assert (report["exercise"], report["hidden_included"]) == ("attention", True)
    assert "scale-by-dk" in report["diagnoses"]
    assert report["score"] < report["max_score"]
    assert any(t["visibility"] == "hidden" and "scale-by-dk" in t["diagnoses"] for t in report["tests"])


def test_scale_after_softmax_is_not_told_to_normalise(grade_file):
    report = grade_file("attention", FOLDER / "scale_after_softmax.py", include_hidden=False)
    failed = [t for t in report.tests if t.outcome != "pass"]
    assert failed and all(t.diagnoses == ["scale-after-softmax"] for t in failed), failures(report)
    assert not [t.message for t in failed if "divide the exponentials by their own sum" in t.message]
    assert "rows sum to 1/sqrt(d_k)" in failed[0].message or "sums to 1/sqrt(d_k)" in failed[0].message


def test_scale_by_keys_names_both_square_roots(grade_file):
    report = grade_file("attention", FOLDER / "scale_by_keys.py", include_hidden=False)
    case = next(t for t in report.tests if t.name == "attention: more keys than queries (T_q != T_k)")
    assert case.diagnoses == ["scale-by-keys"]
    assert "sqrt(T_k) = sqrt(5)" in case.message and "sqrt(d_k) = sqrt(4)" in case.message
