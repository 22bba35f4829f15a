"""Instructor tooling: regenerate the stored expected outputs of visible cases.

``visible.npz`` is produced by running every visible case with the reference solution
as the "student" and recording what the reference answered.  The reference must score
full marks while doing so, which doubles as a check of the grader.
"""

from __future__ import annotations

from pathlib import Path

import exercises
from graders import get_grader
from graders.framework.oracle import RecordingOracle, StoredOracle, load_reference, value_differences
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


def stale_entries(exercise: str, path: Path | None = None) -> list[str]:
    """How ``visible.npz`` (or the file at ``path``) differs from what the reference answers
    today (empty: it is current).

    The entries must be the same, for the same inputs (argument digests), and hold the same
    values within the graders' own tolerances, not byte for byte: another BLAS kernel may
    change the last bits of a product, and the graders accept that difference from students too.
    """
    fresh = record(exercise).entries
    path = exercises.get(exercise).visible_path if path is None else path
    if not path.exists():
        return [f"{path} is missing"]
    stored = StoredOracle(path).entries()
    problems = [f"{key!r}: not stored" for key in sorted(fresh.keys() - stored.keys())]
    problems += [f"{key!r}: stored, but no case asks for it" for key in sorted(stored.keys() - fresh.keys())]
    for key in sorted(fresh.keys() & stored.keys()):
        (fresh_digest, fresh_value), (stored_digest, stored_value) = fresh[key], stored[key]
        if fresh_digest != stored_digest:
            problems.append(f"{key!r}: the inputs changed")
        else:
            problems += value_differences(fresh_value, stored_value, repr(key))
    return problems


def stored_is_current(exercise: str) -> bool:
    """True if ``visible.npz`` holds what the reference answers today (see :func:`stale_entries`)."""
    return not stale_entries(exercise)
