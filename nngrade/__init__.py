"""nngrade: grade NumPy neural-network exercises.

For a student::

    from nngrade import check
    check("dense")                 # in Jupyter: grades the functions defined in this notebook
    check_file("dense", "dense.py")  # grades a file through the sandbox
"""

from __future__ import annotations

import inspect
import types
from pathlib import Path
from typing import Any

from graders.framework.report import CaseReport, Report

__version__ = "0.1.0"
__all__ = ["Report", "assert_case", "check", "check_file", "visible_cases"]


def check_file(exercise: str, path: str | Path, *, include_hidden: bool = False, seed: int | None = None) -> Report:
    """Grade a ``.py`` file or ``.ipynb`` notebook (through the sandbox by default)."""
    from service.grading import grade_file

    path = Path(path)
    return grade_file(exercise, path.name, path.read_bytes(), include_hidden=include_hidden, seed=seed)


def check(exercise: str, namespace: dict[str, Any] | types.ModuleType | None = None, *, show: bool = True) -> Report:
    """Grade the functions defined in ``namespace`` (default: the caller's globals, e.g. a notebook).

    ``namespace`` may also be a module.

    The functions run in this process: this is a self-check of your own code.  The
    report shows the visible cases; hidden cases run when you submit.
    """
    from graders import get_grader
    from graders.framework.proxy import NamespaceRunner
    from service.grading import grade

    import exercises

    ex = exercises.get(exercise)
    if namespace is None:
        frame = inspect.currentframe()
        assert frame is not None and frame.f_back is not None
        namespace = frame.f_back.f_globals
    elif isinstance(namespace, types.ModuleType):
        namespace = vars(namespace)
    # Name the cell (or file) the functions were defined in, so exceptions point at their lines.
    defined = [namespace.get(name) for name in get_grader(ex.id).functions]
    codes = [fn.__code__ for fn in defined if type(fn) is types.FunctionType]
    filename = codes[0].co_filename if codes else "<notebook>"
    report = grade(ex.id, "", filename=filename, runner=NamespaceRunner(namespace, filename=filename))
    if show:
        from service.cli.render import print_report

        print_report(report)
    return _NotebookReport.model_validate(report.model_dump())


class _NotebookReport(Report):
    """A :class:`Report` that Jupyter shows as one line (the table is already printed)."""

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        from service.cli.render import points

        printer.text(f"<nngrade report {self.exercise}: {points(self.score, self.max_score)}>")


def visible_cases(exercise: str) -> list[str]:
    """Names of the visible cases of an exercise (one pytest item each)."""
    from graders import get_grader

    return [c.name for c in get_grader(exercise).cases if not c.hidden]


def assert_case(report: Report, case: str) -> None:
    """Fail the current pytest test with the case's feedback unless it passed."""
    import pytest

    from service.cli.render import clean, points

    if report.status == "rejected":
        pytest.fail(clean(f"Your file was rejected: {report.message}"), pytrace=False)
    if not report.tests and report.message:  # one line for the whole file (e.g. it is empty), said once
        if case == visible_cases(report.exercise)[0]:
            pytest.fail(clean(report.message), pytrace=False)
        pytest.skip("see the first case")
    found: CaseReport | None = next((t for t in report.tests if t.name == case), None)
    if found is None:
        pytest.fail(f"no case named {case!r} in the report", pytrace=False)
    if found.outcome != "pass":
        # The report already tells as much as the exercise's feedback level allows; an empty message
        # (exam mode) stays empty here too.
        said = f"{found.outcome}: {found.message}" if found.message else found.outcome
        codes = f"\n[{', '.join(found.diagnoses)}]" if found.diagnoses else ""
        pytest.fail(clean(f"{said}{codes}\n({points(found.score, found.max_score)} points; feeds {found.feeds})"),
                    pytrace=False)
