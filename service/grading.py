"""The one grading path: exercise id + source → report.

The CLI's ``check``, the service's in-process workers and the Celery workers all call
:func:`grade`; the report is the same wherever it runs.  Data flows one way: the source
goes into a sandbox (or the given runner), the grader drives it, the report comes out.
"""

from __future__ import annotations

from functools import lru_cache

import exercises
from graders import get_grader
from graders.framework.oracle import ReferenceOracle, StoredOracle, load_reference
from graders.framework.proxy import Runner
from graders.framework.report import Report, rejected
from graders.framework.run import Submission, run_grader

from .config import Settings, get_settings
from .submission_file import UnreadableSubmission, source_from_file


class ReferencesMissing(RuntimeError):
    """Hidden cases need the reference solutions, which this installation does not have."""


@lru_cache(maxsize=None)
def _stored(exercise: str) -> StoredOracle:
    return StoredOracle(exercises.get(exercise).visible_path)


@lru_cache(maxsize=None)
def _reference(exercise: str) -> ReferenceOracle:
    module = load_reference(exercise)
    if module is None:
        raise ReferencesMissing(f"the reference solutions are not installed, so hidden cases of {exercise} "
                                f"cannot run (they run on the grading server, or from a source checkout)")
    return ReferenceOracle(module)


def references_available(exercise: str) -> bool:
    try:
        _reference(exercise)
    except ReferencesMissing:
        return False
    return True


def default_runner(settings: Settings | None = None) -> Runner:
    """The sandbox pool (or the in-process runner where the settings ask for it)."""
    settings = settings or get_settings()
    if settings.runner == "inprocess":
        from graders.framework.proxy import InProcessRunner

        return InProcessRunner()
    from .sandbox import shared_runner

    return shared_runner(settings)


def grade(exercise: str, source: str, *, filename: str = "submission.py", include_hidden: bool = False,
          seed: int | None = None, runner: Runner | None = None, settings: Settings | None = None) -> Report:
    """Grade ``source`` for ``exercise``.

    Raises
    ------
    exercises.UnknownExercise
        For an exercise id not in the catalog.
    ReferencesMissing
        If ``include_hidden`` and the references are not installed.
    """
    settings = settings or get_settings()
    ex = exercises.get(exercise)
    too_large = _too_large(ex, filename, len(source.encode("utf-8", "surrogatepass")), settings)
    if too_large is not None:
        return too_large
    return _grade(ex, source, filename, include_hidden=include_hidden, seed=seed, runner=runner, settings=settings)


def _too_large(ex, filename: str, size: int, settings: Settings) -> Report | None:
    if size <= settings.max_upload_bytes:
        return None
    return rejected(ex.id, ex.version, f"{filename} is {size} bytes; the largest accepted file is "
                                       f"{settings.max_upload_bytes} bytes.")


def _grade(ex, source: str, filename: str, *, include_hidden: bool, seed: int | None, runner: Runner | None,
           settings: Settings) -> Report:
    hidden = _reference(ex.id) if include_hidden else None
    runner = runner or default_runner(settings)
    return run_grader(get_grader(ex.id), runner, Submission(source, filename), exercise_version=ex.version,
                      limits=ex.limits.capped(settings.limit_caps), visible_oracle=_stored(ex.id),
                      hidden_oracle=hidden, seed=seed)


def grade_file(exercise: str, filename: str, data: bytes, *, include_hidden: bool = False, seed: int | None = None,
               runner: Runner | None = None, settings: Settings | None = None) -> Report:
    """Grade an uploaded file's bytes (``.py`` or ``.ipynb``), as :func:`grade` does a source.

    The size limit measures the file as uploaded, not the source read from it (a notebook's
    source differs in length from its JSON).  A file that cannot be read at all, or not
    within ``max_parse_seconds``, gets a ``rejected`` report.
    """
    settings = settings or get_settings()
    ex = exercises.get(exercise)
    too_large = _too_large(ex, filename, len(data), settings)
    if too_large is not None:
        return too_large
    try:
        source = source_from_file(filename, data, seconds=settings.max_parse_seconds)
    except UnreadableSubmission as exc:
        return rejected(ex.id, ex.version, exc.message)
    return _grade(ex, source, filename, include_hidden=include_hidden, seed=seed, runner=runner, settings=settings)
