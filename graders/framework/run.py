"""Running a grader's cases against a submission and composing the report.

One case's failure, exception or timeout never costs another case its points: a case
that ends in a fatal fault (timeout, memory, crash, output flood) closes its session and
the next case gets a fresh one.  A submission that cannot be loaded at all fails every
case with the same diagnosis.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass

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
               visible_oracle: Oracle, hidden_oracle: Oracle | None, seed: int | None = None) -> Report:
    """Grade ``submission`` with every visible case, and the hidden ones if ``hidden_oracle``."""
    started = time.perf_counter()
    include_hidden = hidden_oracle is not None
    seed = new_seed() if seed is None else int(seed)
    cases = [c for c in grader.cases if include_hidden or not c.hidden]
    session: StudentSession | None = None
    load_fault: StudentFault | None = None
    isolation: tuple[str, ...] = tuple(runner.isolation)
    outputs: list[str] = []
    results: list[CaseReport] = []

    def close() -> None:
        nonlocal session
        if session is not None:
            try:
                outputs.append(session.output())
            finally:
                session.close()
                session = None

    try:
        for case in cases:
            try:
                if load_fault is not None:
                    raise load_fault
                if session is None:
                    try:
                        session = runner.open(submission.source, limits, filename=submission.filename)
                        isolation = tuple(session.isolation)
                    except StudentFault as fault:
                        load_fault = StudentFault(fault.code, fault.message, fatal=False)
                        raise load_fault from None
                rng, oracle = case_sources(case, seed, visible_oracle=visible_oracle, hidden_oracle=hidden_oracle)
                case.body(CaseContext(case=case, student=session, oracle=oracle, rng=rng))
                results.append(_case_report(case, case.points, "pass", "", []))
            except Fail as f:
                results.append(_case_report(case, case.points * f.fraction, "fail", f.message, f.diagnoses))
            except StudentFault as fault:
                outcome = "timeout" if fault.code == "timeout" else "error"
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
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
    )
