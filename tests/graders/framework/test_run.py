"""Whatever a submission does, grading ends in a report whose cases carry a diagnosis code.

Each solution in ``tests/graders/solutions/framework/`` breaks ``dense`` in one way; it is
graded through the default runner (``grade_file``), hidden cases included.  The report must
be ``graded``, the broken function's cases must carry the code, the other function's cases
keep their points, and no message is a traceback.
"""

from __future__ import annotations

import json
import pathlib

import pytest

SOLUTIONS = pathlib.Path(__file__).resolve().parents[2] / "graders" / "solutions"

FRAMEWORK = SOLUTIONS / "framework"


def grade_marked(grade_file, name: str, tmp_path: pathlib.Path):
    """Grade a solution whose student-defined methods append to a marker file; return (report, marker)."""
    marker = tmp_path / "marker.txt"
    source = (FRAMEWORK / f"{name}.py").read_text().replace("__MARKER__", str(marker))
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    return grade_file("dense", path), marker


def by_name(report) -> dict:
    return {t.name: t for t in report.tests}


def assert_no_traceback(report) -> None:
    text = json.dumps(report.model_dump(mode="json"))
    assert "Traceback" not in text and 'File "' not in text, text[:2000]
    for t in report.tests:
        assert len(t.message) < 3000


def assert_function_broken(report, code: str, *, forward: bool, words: str = "") -> None:
    """Cases of the broken function fail with ``code``; the other function's own cases pass."""
    assert report.status == "graded"
    assert_no_traceback(report)
    tests = by_name(report)
    broken_prefix, intact_prefix = ("forward:", "backward:") if forward else ("backward:", "forward:")
    broken = [t for n, t in tests.items() if n.startswith(broken_prefix)]
    intact = [t for n, t in tests.items() if n.startswith(intact_prefix) and "float32" not in n]
    assert broken and intact
    for t in broken:
        assert t.outcome in ("fail", "error") and t.score < t.max_score and code in t.diagnoses, t
        assert words in t.message, t.message
    for t in intact:
        assert t.outcome == "pass", t
    for t in tests.values():
        # No other diagnosis (the large-batch case may be too slow on a loaded machine: not judged here).
        assert set(t.diagnoses) <= {code, "too-slow"}, t
    assert 0 < report.score < report.max_score
    assert code in report.diagnoses


RETURN_TYPES = {
    # solution: (broken function is forward?, words in the message)
    "ndarray_subclass": (True, "subclass of numpy.ndarray"),
    "odd_object": (True, "LazyResult"),
    "masked_array": (False, "MaskedArray"),
    "returns_string": (True, "is a str"),
    "object_dtype": (True, "dtype object"),
    "complex_gradients": (False, "dtype complex128"),
    "structured": (True, "structured array"),
    "huge_int": (True, "outside the 64-bit range"),
    "deeply_nested": (True, "nested more than"),
    "wrong_tuple_length": (False, "should return a tuple of 3 items (dX, dW, db)"),
}


@pytest.mark.parametrize("name", RETURN_TYPES)
def test_bad_return_values_fail_their_cases_with_bad_return_type(grade_file, name, tmp_path):
    forward, words = RETURN_TYPES[name]
    report, marker = grade_marked(grade_file, name, tmp_path)
    assert_function_broken(report, "bad-return-type", forward=forward, words=words)
    assert not marker.exists(), f"student-defined methods ran in the grader: {marker.read_text()}"


def test_none_is_named_as_a_missing_return(grade_file):
    report = grade_file("dense", FRAMEWORK / "returns_none.py")
    assert report.status == "graded" and report.score == 0
    assert_no_traceback(report)
    for t in report.tests:
        assert t.diagnoses == ["bad-return-type"], t
        assert "None" in t.message
    assert "got None" in by_name(report)["forward: small batch"].message
    assert "returned None" in by_name(report)["backward: small batch"].message


def test_lists_of_the_right_values_are_accepted(grade_file):
    report = grade_file("dense", FRAMEWORK / "returns_lists.py")
    tests = by_name(report)
    assert_no_traceback(report)
    for name in ("forward: small batch", "backward: small batch", "edge shapes: B = 1, n_in = 1, n_out = 1",
                 "batch gradient = sum of per-sample gradients", "backward: random shapes"):
        assert tests[name].outcome == "pass", tests[name]
    # Lists carry no dtype: float32 inputs come back as float64.
    assert tests["float32 in, float32 out"].diagnoses == ["wrong-dtype"]
    # 20000 rows of lists exceed the item cap: told to return an array.
    large = tests["large batch within the time budget"]
    assert large.diagnoses == ["bad-return-type"] and "numpy array" in large.message


FAULTS = {
    # solution: (code, words in every message)
    "syntax_error": ("syntax-error", "line 7"),
    "import_fails": ("exception", "ImportError"),
    "uses_torch": ("forbidden-import", "PyTorch"),
    "uses_sklearn": ("forbidden-import", "scikit-learn"),
    "uses_scipy": ("forbidden-import", "SciPy"),
    "sys_exit_import": ("exception", "sys.exit()"),
}


@pytest.mark.parametrize("name", FAULTS)
def test_a_file_that_cannot_load_fails_every_case_with_its_code(grade_file, name):
    code, words = FAULTS[name]
    report = grade_file("dense", FRAMEWORK / f"{name}.py")
    assert report.status == "graded" and report.score == 0
    assert report.diagnoses == [code]
    assert_no_traceback(report)
    assert {t.visibility for t in report.tests} == {"visible", "hidden"}
    for t in report.tests:
        assert t.outcome == "error" and t.diagnoses == [code] and words in t.message, t


CALL_FAULTS = {
    # solution: (code, broken function is forward?, words)
    "missing_function": ("missing-function", False, "`dense_backward` is not defined"),
    "raises": ("exception", False, "ValueError"),
    "sys_exit_call": ("exception", True, "sys.exit()"),
    "nan_inf": ("not-finite", True, "non-finite"),
    "inf_gradient": ("not-finite", False, "non-finite"),
    "mutates_inputs": ("input-mutated", True, "its input `X` in place (line 8: `X *= 2`)"),
}


@pytest.mark.parametrize("name", CALL_FAULTS)
def test_a_failing_call_costs_only_its_own_cases(grade_file, name):
    code, forward, words = CALL_FAULTS[name]
    report = grade_file("dense", FRAMEWORK / f"{name}.py")
    assert_function_broken(report, code, forward=forward, words=words)


def test_an_exception_names_the_line_and_function(grade_file):
    report = grade_file("dense", FRAMEWORK / "raises.py")
    message = by_name(report)["backward: small batch"].message
    assert "line 7, in _weight_gradient" in message and "matmul" in message


def test_inf_in_backward_is_located(grade_file):
    report = grade_file("dense", FRAMEWORK / "inf_gradient.py")
    message = by_name(report)["backward: small batch"].message
    assert "dW contains 1 non-finite value(s)" in message and "[2, 3]" in message


def test_sys_exit_in_a_call_does_not_end_grading(grade_file):
    report = grade_file("dense", FRAMEWORK / "sys_exit_call.py")
    assert len(report.tests) == 11 and by_name(report)["backward: small batch"].outcome == "pass"


def test_reports_of_broken_files_reproduce_with_their_seed(grade_file):
    path = FRAMEWORK / "nan_inf.py"
    first = grade_file("dense", path)
    again = grade_file("dense", path, seed=first.seed)
    assert [t.model_dump() for t in first.tests] == [t.model_dump() for t in again.tests]
