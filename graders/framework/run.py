"""Running a grader's cases against a submission and composing the report.

One case's failure, exception or timeout never costs another case its points: a case
that ends in a fatal fault (timeout, memory, crash, output flood) closes its session and
the next case gets a fresh one.  A submission that cannot be loaded at all fails every
case with the same diagnosis.  The wall-clock budget (``Limits.wall_seconds``) is one for
the whole run, however many sessions it takes: the cases left when it is spent time out
without starting.

Faults are kept as (code, message) and raised afresh, never stored as exception objects:
a stored exception keeps its traceback's frames alive, and with them whatever buffers
those frames held (a garbled reply of 64 MB among them) until the cycle collector runs.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass

from . import feedback
from .case import Case, CaseContext, Grader, Oracle, StaleExpectations, case_sources
from .checks import Fail
from .proxy import Limits, Runner, RunnerUnavailable, StudentFault, StudentSession
from .report import CaseReport, Report

log = logging.getLogger("nngrade.grader")
MAX_OUTPUT = 8 * 1024


@dataclass
class Submission:
    source: str
    filename: str = "submission.py"


def new_seed() -> int:
    return secrets.randbits(62)


def _case_report(case: Case, score: float, outcome: str, message: str, diagnoses: list[str]) -> CaseReport:
    return CaseReport(name=case.name, visibility=case.visibility, score=round(score, 6), max_score=case.points,
                      outcome=outcome, message=message, diagnoses=diagnoses, feeds=case.feeds, expects=case.expects)


def run_grader(grader: Grader, runner: Runner, submission: Submission, *, exercise_version: str, limits: Limits,
               visible_oracle: Oracle, hidden_oracle: Oracle | None, seed: int | None = None,
               feedback_level: str = feedback.DEFAULT) -> Report:
    """Grade ``submission`` with every visible case, and the hidden ones if ``hidden_oracle``;
    the report tells as much as ``feedback_level`` allows (:mod:`graders.framework.feedback`)."""
    feedback.check_level(feedback_level)
    started = time.perf_counter()
    deadline = time.monotonic() + limits.wall_seconds
    include_hidden = hidden_oracle is not None
    seed = new_seed() if seed is None else int(seed)
    cases = [c for c in grader.cases if include_hidden or not c.hidden]
    session: StudentSession | None = None
    load_fault: tuple[str, str] | None = None  # (code, message) of a submission that cannot load
    isolation: tuple[str, ...] = tuple(runner.isolation)
    outputs: list[str] = []
    results: list[CaseReport] = []
    hints: dict[str, list[str]] = {}  # case name -> its hints, shown once per report by feedback.compose

    def close() -> None:
        nonlocal session
        if session is not None:
            try:
                outputs.append(session.output())
            finally:
                session.close()
                session = None

    def open_session() -> StudentSession:
        nonlocal session, isolation, load_fault
        if load_fault is not None:
            raise StudentFault(*load_fault, fatal=False)
        if session is None:
            if time.monotonic() >= deadline:
                raise StudentFault("timeout", f"Time limit exceeded before this test started ({limits.wall_seconds:g} s "
                                              f"for the whole submission, spent by the tests before it).")
            try:
                session = runner.open(submission.source, limits, filename=submission.filename, deadline=deadline)
            except StudentFault as fault:
                load_fault = (fault.code, fault.message)
            else:
                isolation = tuple(session.isolation)
        if load_fault is not None:
            raise StudentFault(*load_fault, fatal=False)
        return session

    try:
        for case in cases:
            try:
                student = open_session()
                rng, oracle = case_sources(case, seed, visible_oracle=visible_oracle, hidden_oracle=hidden_oracle)
                case.body(CaseContext(case=case, student=student, oracle=oracle, rng=rng))
                del student
                results.append(_case_report(case, case.points, "pass", "", []))
            except Fail as f:
                results.append(_case_report(case, case.points * f.fraction, "fail", f.message, f.diagnoses))
                hints[case.name] = f.hints
            except StudentFault as fault:
                outcome = {"timeout": "timeout", "input-mutated": "fail"}.get(fault.code, "error")
                results.append(_case_report(case, 0.0, outcome, fault.message, [fault.code]))
                if fault.fatal:
                    close()
            except (StaleExpectations, RunnerUnavailable):
                raise
            except Exception:  # a bug in the grader must not lose the report
                log.exception("grader %s failed on case %r", grader.exercise, case.name)
                results.append(_case_report(case, 0.0, "error",
                                            "The grader itself failed on this case; your instructor has been told. "
                                            "This is not a mistake in your code.", ["grader-error"]))
    finally:
        close()

    found = [code for r in results for code in r.diagnoses]
    results = feedback.compose(results, [hints.get(r.name, []) for r in results], feedback_level)
    diagnoses = list(dict.fromkeys(code for r in results for code in r.diagnoses))
    output = "".join(outputs)
    if len(output) > MAX_OUTPUT:
        output = output[:MAX_OUTPUT] + f"\n… [{len(output) - MAX_OUTPUT} more characters cut]"
    return Report(
        exercise=grader.exercise,
        exercise_version=exercise_version,
        status="graded",
        score=round(sum(r.score for r in results), 6),
        max_score=sum(c.points for c in cases),
        diagnoses=diagnoses,
        seed=seed,
        tests=results,
        grader_version=f"{exercise_version}+{grader.source_hash}",
        hidden_included=include_hidden,
        isolation=list(isolation),
        output=output,
        message=feedback.SCORE_NOTE if feedback_level == "score" else "",
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
    ).with_found(found)
