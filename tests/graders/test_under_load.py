"""No point lost to a loaded machine (issue 14): correct code keeps full marks while the CPUs are busy.

Two processes spin beside the grading, one per core of the machine this suite is made for, so
every sandboxed call competes for the CPU.  The time checks judge the submission (the CPU time
the sandbox spent, or the best of several tries), not the machine, so the five references and
every held-out correct variant (``solutions/*/correct_*.py``) still get full marks.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest
from solution_checks import assert_full_marks

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "tests" / "graders" / "solutions"
EXERCISES = ("dense", "lora", "toeplitz", "attention", "two_layer")
CORRECT = [(ex, ROOT / "reference" / f"{ex}.py") for ex in EXERCISES] + [
    (path.parent.name, path) for path in sorted(SOLUTIONS.glob("*/correct_*.py"))]
BURNERS = 2


@pytest.fixture(scope="module")
def busy_machine():
    """Two CPU-bound processes at the grader's own priority, stopped (by their ids) afterwards."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"], stdin=subprocess.DEVNULL)
               for _ in range(BURNERS)]
    try:
        yield burners
    finally:
        for burner in burners:
            burner.kill()
            burner.wait(timeout=10)


@pytest.mark.parametrize("exercise, path", CORRECT, ids=[f"{ex}/{p.name}" for ex, p in CORRECT])
def test_correct_code_keeps_full_marks_on_a_busy_machine(busy_machine, grade_file, exercise, path):
    assert all(burner.poll() is None for burner in busy_machine), "a CPU burner stopped"
    assert_full_marks(grade_file(exercise, path, seed=20240611))
