"""The `dense` grader: correct variants get full marks, every named mistake is detected."""

from __future__ import annotations

import pathlib

import pytest
from solution_checks import (assert_cli_report, assert_diagnosed, assert_full_marks,
                             assert_hidden_feedback_shows_no_expected_values, contract_codes, failures)

ROOT = pathlib.Path(__file__).resolve().parents[2]
FOLDER = ROOT / "tests" / "graders" / "solutions" / "dense"

#: Differently written correct solutions: @, einsum, the seed's column convention with a
#: blockwise sum in reverse order, and broadcasting without any matrix product (the slowest
#: vectorized form, which must still meet the time budget).
CORRECT = ["correct_vectorized.py", "correct_einsum.py", "correct_column_convention.py", "correct_broadcast_sum.py"]

#: file -> the diagnosis codes its report must contain
WRONG = {
    "dW_transposed.py": ["dW-transposed"],
    "grad_averaged.py": ["grad-averaged"],
    "db_wrong_axis.py": ["db-wrong-axis"],
    "db_keepdims.py": ["db-wrong-axis"],
    "dX_W_transpose.py": ["dX-used-W-transpose"],
    "bias_column.py": ["bias-not-broadcast"],
    "bias_missing.py": ["bias-not-broadcast"],
    "float64_always.py": ["wrong-dtype"],
    "zeroes_dY.py": ["input-mutated"],
    "squeezed.py": ["wrong-shape"],
    "per_sample_loop.py": ["too-slow"],
    "loop_in_backward.py": ["too-slow"],
    "dX_updated_weights.py": ["dX-used-updated-weights"],
    "weight_decay.py": ["weight-decay-in-grad"],
    "float64_transposed.py": ["wrong-dtype", "dW-transposed"],
}

#: Cheats at the large-batch case (issue 12) -> the diagnoses of that case, the only one each must fail:
#: a loop over the first rows only with zeros elsewhere; a loop that remembers its answers by the inputs'
#: bytes; a loop run at import on the inputs a fixed seed would give.
CHEATS = {
    "loop_first_rows_only.py": [],
    "loop_memoized.py": ["too-slow"],
    "loop_at_import.py": ["too-slow"],
}
LARGE_BATCH = "large batch within the time budget"

CONTRACT_CODES = contract_codes("dense")


@pytest.mark.parametrize("name", ["reference", *CORRECT])
@pytest.mark.parametrize("seed", [5, 987654321])
def test_correct_solutions_get_full_marks(grade_file, name, seed):
    path = ROOT / "reference" / "dense.py" if name == "reference" else FOLDER / name
    assert_full_marks(grade_file("dense", path, seed=seed))


@pytest.mark.parametrize("name, codes", sorted(WRONG.items()))
def test_wrong_solution_is_diagnosed(grade_file, name, codes):
    assert_diagnosed(grade_file("dense", FOLDER / name, seed=11), codes)


def test_every_contract_code_is_covered_by_a_wrong_solution():
    assert CONTRACT_CODES <= {c for cs in WRONG.values() for c in cs}
    assert set(WRONG) | set(CORRECT) | set(CHEATS) == {p.name for p in FOLDER.glob("*.py")}


@pytest.mark.parametrize("name, codes", sorted(CHEATS.items()))
def test_large_batch_gives_its_points_only_to_a_vectorized_correct_layer(grade_file, name, codes):
    """Each cheat loses exactly the large-batch case, on the server's path through the sandbox."""
    report = grade_file("dense", FOLDER / name, seed=20240611)
    failed = [t for t in report.tests if t.outcome != "pass"]
    assert [t.name for t in failed] == [LARGE_BATCH], failures(report)
    assert failed[0].score == 0 and failed[0].diagnoses == codes, failed[0]
    if not codes:
        assert "entries of Y are wrong" in failed[0].message and "Every entry is checked" in failed[0].message


def test_averaged_gradient_is_named_by_the_batch_sum_property(grade_file):
    report = grade_file("dense", FOLDER / "grad_averaged.py", include_hidden=False)
    case = next(t for t in report.tests if t.name == "batch gradient = sum of per-sample gradients")
    assert case.outcome == "fail"
    assert case.diagnoses == ["grad-averaged"]
    assert "mean of the per-sample gradients" in case.message


def test_too_slow_names_the_function_that_loops(grade_file):
    report = grade_file("dense", FOLDER / "loop_in_backward.py", include_hidden=False)
    case = next(t for t in report.tests if t.name == "large batch within the time budget")
    assert case.diagnoses == ["too-slow"]
    assert "`dense_backward` took" in case.message
    assert "`dense_forward` took" not in case.message
    assert [t.name for t in report.tests if t.outcome != "pass"] == [case.name]


def test_mutation_costs_the_case_even_with_right_values(grade_file):
    report = grade_file("dense", FOLDER / "zeroes_dY.py", include_hidden=False)
    backward = next(t for t in report.tests if t.name == "backward: small batch")
    assert backward.diagnoses == ["input-mutated"]
    assert backward.score == 0
    assert "dY" in backward.message


def test_hidden_feedback_never_shows_expected_values(grade_file):
    report = grade_file("dense", FOLDER / "dW_transposed.py", seed=3)
    assert_hidden_feedback_shows_no_expected_values(report)


@pytest.mark.parametrize("path, full", [(ROOT / "reference" / "dense.py", True), (FOLDER / "dW_transposed.py", False)])
def test_cli_check_json_all(nngrade_cli, path, full):
    done = nngrade_cli("check", "dense", str(path), "--json", "--all")
    assert_cli_report(done, "dense", full=full, code="dW-transposed")


def test_a_wrong_dtype_does_not_hide_a_transposed_gradient(grade_file):
    report = grade_file("dense", FOLDER / "float64_transposed.py", include_hidden=False)
    f32 = next(t for t in report.tests if t.name == "float32 in, float32 out")
    assert f32.diagnoses == ["wrong-dtype", "wrong-shape", "dW-transposed"] and f32.score == 0
    assert "Y has dtype float64" in f32.message and "db has dtype float64" in f32.message  # every call, every output


def test_db_kept_2d_is_named_in_every_case_that_sees_it(grade_file):
    report = grade_file("dense", FOLDER / "db_keepdims.py", include_hidden=False)
    batch = next(t for t in report.tests if t.name == "batch gradient = sum of per-sample gradients")
    assert "db-wrong-axis" in batch.diagnoses and batch.score == 0
    backward = next(t for t in report.tests if t.name == "backward: small batch")
    assert backward.diagnoses == ["wrong-shape", "db-wrong-axis"]


@pytest.mark.parametrize("name, code, says", [
    ("dX_updated_weights.py", "dX-used-updated-weights", "weights already changed by an update step"),
    ("weight_decay.py", "weight-decay-in-grad", "L2 weight-decay term"),
])
def test_fitted_mistakes_are_named_with_their_own_code_only(grade_file, name, code, says):
    report = grade_file("dense", FOLDER / name, include_hidden=False)
    small = next(t for t in report.tests if t.name == "backward: small batch")
    assert small.diagnoses == [code] and says in small.message
    assert 0 < small.score < small.max_score  # the other two gradients are right


def _answers_of_the_visible_cases() -> dict[str, object]:
    """What a student can build from the self-check: each visible case's answer keyed by the bytes
    of its inputs (recorded on the self-check's path, fixed inputs; the reference's answers stand in
    for the stored ``visible.npz``'s, which equal them within tolerance)."""
    import hashlib

    import exercises
    from graders import get_grader
    from graders.framework.oracle import StoredOracle, load_reference
    from graders.framework.proxy import NamespaceRunner
    from graders.framework.run import Submission, run_grader

    reference, table = load_reference("dense"), {}

    def recording(function):
        def call(*args):
            value = getattr(reference, function)(*args)
            if args[0].shape[0] <= 100:
                key = hashlib.sha256(b"".join(a.tobytes() for a in args)).hexdigest()
                table[key] = value.tolist() if function == "dense_forward" else [v.tolist() for v in value]
            return value
        return call

    namespace = {f: recording(f) for f in ("dense_forward", "dense_backward")}
    ex = exercises.get("dense")
    run_grader(get_grader("dense"), NamespaceRunner(namespace), Submission(""), exercise_version=ex.version,
               limits=ex.limits, visible_oracle=StoredOracle(ex.visible_path), hidden_oracle=None)
    return table


REPLAY = '''"""Wrong formula (zeros), except for inputs whose answers it has stored."""
import hashlib

import numpy as np

TABLE = {table!r}


def _stored(*args):
    return TABLE.get(hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes() for a in args)).hexdigest())


def dense_forward(X, W, b):
    hit = _stored(X, W, b)
    return np.zeros((X.shape[0], W.shape[0]), X.dtype) if hit is None else np.array(hit, dtype=X.dtype)


def dense_backward(X, W, dY):
    hit = _stored(X, W, dY)
    if hit is None:
        return np.zeros_like(X), np.zeros_like(W), np.zeros(W.shape[0], X.dtype)
    return tuple(np.array(h, dtype=X.dtype) for h in hit)
'''


def test_replaying_the_stored_visible_answers_earns_nothing_on_the_server(grade_file, tmp_path):
    """Issue 12: visible inputs were the same in every run, so a submission could answer them from
    the stored outputs shipped to students.  On the server they come from the run's seed."""
    table = _answers_of_the_visible_cases()
    replay, zeros = tmp_path / "replay.py", tmp_path / "zeros.py"
    replay.write_text(REPLAY.format(table=table))
    zeros.write_text(REPLAY.format(table={}))

    def visible_points(path, include_hidden):
        report = grade_file("dense", path, include_hidden=include_hidden, seed=20240611)
        return sum(t.score for t in report.tests if t.visibility == "visible")

    # the table is real: on the self-check's fixed inputs it answers (harmless: nothing is recorded there)
    assert visible_points(replay, False) > visible_points(zeros, False) + 10
    # on the server's path it is worth no more than the wrong formula it hides
    assert visible_points(replay, True) == visible_points(zeros, True)
