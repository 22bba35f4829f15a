"""The `lora` grader: correct variants get full marks, every named mistake is detected."""

from __future__ import annotations

import json
import pathlib

import pytest
from solution_checks import assert_codes_registered, contract_codes

ROOT = pathlib.Path(__file__).resolve().parents[2]
FOLDER = ROOT / "tests" / "graders" / "solutions" / "lora"

CORRECT = ["correct_einsum.py", "correct_loops.py"]

#: file -> the diagnosis codes its report must contain
WRONG = {
    "adapter_dead.py": ["adapter-dead"],
    "mirrored.py": ["lora-mirrored"],
    "global_random.py": ["global-random"],
    "fixed_seed.py": ["global-random"],
    "rank_deficient.py": ["A-rank-deficient"],
    "w0_gradient.py": ["W0-gradient"],
    "w0_updated.py": ["input-mutated"],
    "b_not_zero.py": ["B-not-zero"],
    "adapter_ignored.py": ["adapter-ignored"],
    "grad_averaged.py": ["grad-averaged"],
    "grad_transposed.py": ["grad-transposed"],
    "float32_mirrored_self_seeded.py": ["wrong-dtype", "lora-mirrored", "global-random"],
}


@pytest.mark.parametrize("name", ["reference", *CORRECT])
@pytest.mark.parametrize("seed", [1, 20240611])
def test_correct_solutions_get_full_marks(grade_file, name, seed):
    path = ROOT / "reference" / "lora.py" if name == "reference" else FOLDER / name
    report = grade_file("lora", path, seed=seed)
    failed = [(t.name, t.message) for t in report.tests if t.outcome != "pass"]
    assert report.hidden_included
    assert report.score == report.max_score, failed
    assert report.diagnoses == []


@pytest.mark.parametrize("name, codes", sorted(WRONG.items()))
def test_wrong_solution_is_diagnosed(grade_file, name, codes):
    report = grade_file("lora", FOLDER / name, seed=7)
    for code in codes:
        assert code in report.diagnoses, (code, [(t.name, t.message) for t in report.tests])
    assert report.score < report.max_score
    assert_codes_registered(report)


def test_w0_gradient_keeps_half_a_case_when_dA_and_dB_are_right(grade_file):
    report = grade_file("lora", FOLDER / "w0_gradient.py", include_hidden=False)
    case = next(t for t in report.tests if t.name == "backward: gradients of both factors")
    assert case.diagnoses == ["W0-gradient"]
    assert case.score == case.max_score / 2
    assert "dA and dB themselves are right" in case.message


def test_hidden_feedback_never_shows_expected_values(grade_file):
    report = grade_file("lora", FOLDER / "grad_averaged.py", seed=3)
    hidden = [t for t in report.tests if t.visibility == "hidden" and t.outcome == "fail"]
    assert hidden
    assert all("expected" not in t.message for t in hidden)


def test_every_named_code_is_covered_by_a_wrong_solution():
    assert contract_codes("lora") <= {c for cs in WRONG.values() for c in cs}
    assert set(WRONG) | set(CORRECT) == {p.name for p in FOLDER.glob("*.py")}


def test_cli_grades_a_wrong_file_with_hidden_cases(nngrade_cli):
    done = nngrade_cli("check", "lora", str(FOLDER / "mirrored.py"), "--json", "--all")
    report = json.loads(done.stdout)
    assert report["exercise"] == "lora"
    assert report["hidden_included"] is True
    assert "lora-mirrored" in report["diagnoses"]
    assert report["score"] < report["max_score"]
    assert {t["visibility"] for t in report["tests"]} == {"visible", "hidden"}


def test_a_wrong_dtype_hides_neither_the_convention_nor_the_generator(grade_file):
    """float32 factors, A = 0, B from a generator lora_init seeds itself: all three are named."""
    report = grade_file("lora", FOLDER / "float32_mirrored_self_seeded.py", include_hidden=False)
    by_name = {t.name: t for t in report.tests}
    init = by_name["init: shapes, B = 0, A of rank r"]
    assert init.diagnoses == ["wrong-dtype", "lora-mirrored"] and init.score == 0
    assert "A has dtype float32; expected float64" in init.message and "mirrored convention" in init.message
    again = by_name["init: reproducible for equal seeds, different for different seeds"]
    assert again.diagnoses == ["wrong-dtype", "global-random"] and again.score == 0
    assert "a generator it seeds itself" in again.message
    assert report.diagnoses.count("wrong-dtype") == 1
