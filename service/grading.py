"""The one grading path: exercise id + source → report.

The CLI's ``check``, the service's in-process workers and the Celery workers all call
:func:`grade`; the report is the same wherever it runs.  Data flows one way: the source
goes into a sandbox (or the given runner), the grader drives it, the report comes out.
"""

from __future__ import annotations

import io
import tokenize
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
          seed: int | None = None, runner: Runner | None = None, settings: Settings | None = None,
          feedback: str | None = None) -> Report:
    """Grade ``source`` for ``exercise``, telling as much as ``feedback`` (default: the
    exercise's level, :mod:`graders.framework.feedback`) allows.

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
    return _grade(ex, source, filename, include_hidden=include_hidden, seed=seed, runner=runner, settings=settings,
                  feedback=feedback)


def _too_large(ex, filename: str, size: int, settings: Settings) -> Report | None:
    if size <= settings.max_upload_bytes:
        return None
    return rejected(ex.id, ex.version, f"{filename} is {size} bytes; the largest accepted file is "
                                       f"{settings.max_upload_bytes} bytes.")


def _grade(ex, source: str, filename: str, *, include_hidden: bool, seed: int | None, runner: Runner | None,
           settings: Settings, feedback: str | None = None) -> Report:
    hidden = _reference(ex.id) if include_hidden else None
    runner = runner or default_runner(settings)
    return run_grader(get_grader(ex.id), runner, Submission(source, filename), exercise_version=ex.version,
                      limits=ex.limits.capped(settings.limit_caps), visible_oracle=_stored(ex.id),
                      hidden_oracle=hidden, seed=seed, feedback_level=feedback or ex.feedback)


def grade_file(exercise: str, filename: str, data: bytes, *, include_hidden: bool = False, seed: int | None = None,
               runner: Runner | None = None, settings: Settings | None = None, feedback: str | None = None) -> Report:
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
    report = _grade(ex, source, filename, include_hidden=include_hidden, seed=seed, runner=runner, settings=settings,
                    feedback=feedback)
    return _one_line_if_nothing_defined(report, filename, source, ex.functions)


#: Tokens of a file that defines nothing: whitespace, comments and bare strings (docstrings).
_NOTHING = frozenset({tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.STRING, tokenize.ENDMARKER})


def _one_line_if_nothing_defined(report: Report, filename: str, source: str, functions: tuple[str, ...]) -> Report:
    """``report`` with its tests replaced by one ``message`` when every case failed only because
    none of ``functions`` is defined ("dense.py is empty: it defines none of …"); the score and
    the ``missing-function`` diagnosis stay."""
    if report.status != "graded" or not report.tests or any(t.diagnoses != ["missing-function"]
                                                            for t in report.tests):
        return report
    try:  # lexing only, linear in the source; the file was already loaded in the sandbox
        blank = all(t.type in _NOTHING for t in tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        blank = False
    names = ", ".join(functions)
    message = (f"{filename} is empty: it defines none of {names}." if blank else
               f"{filename} defines none of {names}: define each at module level with the signature given "
               f"in the statement.")
    return report.model_copy(update={"tests": [], "message": message})
