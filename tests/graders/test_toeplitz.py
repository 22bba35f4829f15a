"""The `toeplitz` grader: correct variants get full marks, every named mistake is detected."""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

from graders import toeplitz as grader_module
from graders.framework import checks as C
from reference.toeplitz import conv_matrix
from solution_checks import (assert_cli_report, assert_diagnosed, assert_full_marks,
                             assert_hidden_feedback_shows_no_expected_values, contract_codes)

ROOT = pathlib.Path(__file__).resolve().parents[2]
FOLDER = ROOT / "tests" / "graders" / "solutions" / "toeplitz"

#: Differently written correct solutions: loops, fancy indexing, one np.diag per kernel
#: entry, rows of the 'full' matrix, and columns as images of the basis vectors.
CORRECT = ["loops.py", "fancy_index.py", "diagonals.py", "full_rows.py", "basis_columns.py"]

#: file -> the diagnosis codes its report must contain
WRONG = {
    "unflipped.py": ["kernel-not-flipped"],
    "correlate.py": ["kernel-not-flipped"],
    "centre_k_half.py": ["even-kernel-off-by-one"],
    "circulant.py": ["circulant-wraparound"],
    "full_shape.py": ["full-or-valid-shape", "wrong-shape"],
    "valid_shape.py": ["full-or-valid-shape", "wrong-shape"],
    "full_transposed.py": ["full-or-valid-shape", "wrong-shape"],
    "valid_transposed.py": ["full-or-valid-shape", "wrong-shape"],
    "float64_always.py": ["wrong-dtype"],
    "flips_in_place.py": ["input-mutated"],
}

CONTRACT_CODES = contract_codes("toeplitz")
SIZES = [(k, n) for n in range(1, 13) for k in range(1, n + 1)]


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"toeplitz_solution_{name[:-3]}", FOLDER / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("k, n", SIZES)
def test_reference_is_np_convolve_same(k, n):
    rng = np.random.default_rng(1000 * n + k)
    kernel = rng.standard_normal(k)
    T = conv_matrix(kernel, n)
    assert T.shape == (n, n)
    for x in rng.standard_normal((3, n)):
        np.testing.assert_allclose(T @ x, np.convolve(x, kernel, mode="same"), rtol=1e-12, atol=1e-12)
    assert conv_matrix(kernel.astype(np.float32), n).dtype == np.float32


def test_reference_rejects_a_kernel_longer_than_n():
    with pytest.raises(ValueError, match=r"1 <= k <= n = 3, got \(4,\)"):
        conv_matrix(np.ones(4), 3)


@pytest.mark.parametrize("name, code", [(n, c[0]) for n, c in sorted(WRONG.items()) if c[0] in CONTRACT_CODES])
def test_detector_predicts_the_wrong_matrix_exactly_for_every_size(name, code):
    """Wherever a wrong implementation differs from the truth, a detector with its code
    predicts its output from the expected T alone (k <= n <= 12, odd and even k)."""
    wrong = load(name)
    mistakes = [m for m in grader_module.MISTAKES if m.code == code]
    differing = 0
    for k, n in SIZES:
        kernel = np.random.default_rng(7 * n + k).standard_normal(k)
        expected = conv_matrix(kernel, n)
        got = np.asarray(wrong.conv_matrix(kernel.copy(), n))
        if C.is_close(got, expected):
            continue
        differing += 1
        inputs, exp = {"kernel": kernel, "n": n}, {"T": expected}
        assert any(m.matches(inputs, exp, {"T": got}) for m in mistakes), (k, n)
        others = [m.code for m in grader_module.MISTAKES if m.code != code and m.matches(inputs, exp, {"T": got})]
        assert others == [], (k, n, others)
    assert differing > 0


@pytest.mark.parametrize("name", ["reference", *CORRECT])
@pytest.mark.parametrize("seed", [5, 987654321])
def test_correct_solutions_get_full_marks(grade_file, name, seed):
    path = ROOT / "reference" / "toeplitz.py" if name == "reference" else FOLDER / name
    assert_full_marks(grade_file("toeplitz", path, seed=seed))


@pytest.mark.parametrize("name, codes", sorted(WRONG.items()))
def test_wrong_solution_is_diagnosed(grade_file, name, codes):
    assert_diagnosed(grade_file("toeplitz", FOLDER / name, seed=11), codes)


def test_every_contract_code_is_covered_by_a_wrong_solution():
    assert CONTRACT_CODES <= {c for cs in WRONG.values() for c in cs}
    assert set(WRONG) | set(CORRECT) == {p.name for p in FOLDER.glob("*.py")}


def test_off_by_one_centre_passes_odd_kernels_and_fails_even_ones(grade_file):
    report = grade_file("toeplitz", FOLDER / "centre_k_half.py", include_hidden=False)
    outcome = {t.name: t.outcome for t in report.tests}
    assert outcome["odd kernel: k = 3, n = 6"] == "pass"
    assert outcome["even kernels: k = 2, n = 5 and k = 4, n = 7"] == "fail"
    even = next(t for t in report.tests if t.name.startswith("even kernels"))
    assert even.diagnoses == ["even-kernel-off-by-one"]


def test_structure_case_names_the_wraparound(grade_file):
    report = grade_file("toeplitz", FOLDER / "circulant.py", include_hidden=False)
    case = next(t for t in report.tests if t.name == "T is Toeplitz and zero outside the band")
    assert case.outcome == "fail"
    assert case.diagnoses == ["circulant-wraparound"]
    assert "outside the band" in case.message


def test_convolve_case_compares_with_np_convolve(grade_file):
    report = grade_file("toeplitz", FOLDER / "unflipped.py", include_hidden=False)
    case = next(t for t in report.tests if t.name == "T @ x equals np.convolve(x, kernel, mode='same')")
    assert case.diagnoses == ["kernel-not-flipped"]
    assert "T @ x is not np.convolve(x, kernel, mode='same')" in case.message


def test_hidden_feedback_never_shows_expected_values(grade_file):
    report = grade_file("toeplitz", FOLDER / "circulant.py", seed=3)
    assert_hidden_feedback_shows_no_expected_values(report)


@pytest.mark.parametrize("path, full", [(ROOT / "reference" / "toeplitz.py", True), (FOLDER / "circulant.py", False)])
def test_cli_check_json_all(nngrade_cli, path, full):
    done = nngrade_cli("check", "toeplitz", str(path), "--json", "--all")
    assert_cli_report(done, "toeplitz", full=full, code="circulant-wraparound")


def test_the_transposed_full_layout_is_named(grade_file):
    report = grade_file("toeplitz", FOLDER / "full_transposed.py", include_hidden=False)
    case = next(t for t in report.tests if t.name == "odd kernel: k = 3, n = 6")
    assert case.diagnoses == ["wrong-shape", "full-or-valid-shape"]
    assert "T has shape (6, 8)" in case.message and "transpose of the matrix of mode='full'" in case.message
