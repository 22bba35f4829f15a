"""Instructor tooling: regenerate the stored expected outputs of visible cases.

``visible.npz`` is produced by running every visible case with the reference solution
as the "student" and recording what the reference answered.  The reference must score
full marks while doing so, which doubles as a check of the grader.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

import exercises
from graders import get_grader
from graders.framework.oracle import RecordingOracle, load_reference
from graders.framework.proxy import NamespaceRunner
from graders.framework.run import Submission, run_grader


class RegenError(RuntimeError):
    pass


def record(exercise: str) -> RecordingOracle:
    ex = exercises.get(exercise)
    module = load_reference(ex.id)
    if module is None:
        raise RegenError("the reference solutions are not installed; run this from a source checkout")
    oracle = RecordingOracle(module)
    report = run_grader(get_grader(ex.id), NamespaceRunner(vars(module), filename=module.__file__ or ""),
                        Submission(""), exercise_version=ex.version, limits=ex.limits,
                        visible_oracle=oracle, hidden_oracle=None, seed=0)
    # Timing cases record nothing and depend on the machine's load, not on the reference.
    failed = [t for t in report.tests if t.outcome != "pass" and t.diagnoses != ["too-slow"]]
    if failed:
        details = "; ".join(f"{t.name}: {t.message}" for t in failed)
        raise RegenError(f"the reference does not pass its own visible cases: {details}")
    return oracle


def regenerate(exercise: str) -> Path:
    """Write ``exercises/<id>/visible.npz`` from the reference; return its path."""
    oracle = record(exercise)
    path = exercises.get(exercise).visible_path
    oracle.save(path)
    return path


def stored_is_current(exercise: str) -> bool:
    """True if ``visible.npz`` holds exactly what the reference answers today."""
    oracle = record(exercise)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "visible.npz"
        oracle.save(fresh)
        stored_path = exercises.get(exercise).visible_path
        if not stored_path.exists():
            return False
        with np.load(fresh, allow_pickle=False) as a, np.load(stored_path, allow_pickle=False) as b:
            if sorted(a.files) != sorted(b.files):
                return False
            return all(np.array_equal(a[k], b[k]) for k in a.files)
