"""Grading one queued submission: the unit of work of every worker.

:func:`grade_submission` is what the in-process workers run, and what a Celery task can
call as it is (``grade_submission(submission_id)`` claims the submission itself).  It
grades through :func:`service.grading.grade` — the one grading path, with the configured
runner — and stores the report in one transaction.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import exercises
from graders import get_grader
from graders.framework import feedback
from graders.framework.proxy import Runner, RunnerUnavailable
from graders.framework.report import CaseReport, Report, rejected
from service.config import Settings, get_settings
from service.db import DONE, FAILED, QUEUED, Database
from service.db.models import utcnow
from service.grading import default_runner, grade_file

from . import queue
from .metrics import Metrics

log = logging.getLogger("nngrade.worker")

#: Only with the in-process runner, where the student's code runs inside the grading process.
CRASHED_MESSAGE = ("Grading this submission stopped the grading process {n} times, so it was not tried again. "
                   "This service runs your code inside that process (no sandbox): look for code that ends the "
                   "process (os._exit, signals) or exhausts the machine, and submit again.")
ERROR_MESSAGE = ("The grading service could not grade this submission ({error}); this is not a mistake in your "
                 "code. Your instructor can regrade it.")


@dataclass
class GradingContext:
    """Everything a worker needs: the database, the settings, the runner and where to report."""

    db: Database
    settings: Settings
    runner: Runner | None = None
    metrics: Metrics = field(default_factory=Metrics)
    #: Called with a submission id whenever its grading ends (the API wakes long-polls with it).
    on_finished: Callable[[int], None] | None = None
    #: Why the runner last refused to run code (RunnerUnavailable), until a grading succeeds again.
    unavailable: str | None = None
    _serial: threading.Lock = field(default_factory=threading.Lock, repr=False)
    #: True while this process holds the only claim on the database (the SQLite data directory's lock).
    sole_holder: bool = False
    _lease: queue.Lease | None = field(default=None, repr=False)

    def get_runner(self) -> Runner:
        if self.runner is None:
            self.runner = default_runner(self.settings)
        return self.runner

    @property
    def runs_in_process(self) -> bool:
        """Student code runs in this process (the in-process runner), so it can end the process."""
        return tuple(getattr(self.get_runner(), "isolation", ())) == ("none",)

    @property
    def lease(self) -> queue.Lease:
        """This process's claims: their owner, lease length, and whether student code runs here."""
        if self._lease is None:
            self._lease = queue.Lease(seconds=self.settings.lease_seconds, inprocess=self.runs_in_process)
        return self._lease

    def exclusive(self) -> contextlib.AbstractContextManager:
        """Held by a worker from claiming a submission to storing its report when the runner is
        in-process: such grading shares this interpreter (warning filters, sys.modules), and a
        submission that takes the process down must not cost the attempt of others merely claimed."""
        return self._serial if self.runs_in_process else contextlib.nullcontext()

    @property
    def isolation(self) -> list[str]:
        return list(getattr(self.runner, "isolation", ()) or ())

    def finished(self, submission_id: int) -> None:
        if self.on_finished is not None:
            try:
                self.on_finished(submission_id)
            except Exception:
                log.exception("on_finished hook failed for submission %s", submission_id)


_default: GradingContext | None = None
_default_lock = threading.Lock()


def default_context() -> GradingContext:
    """The context a bare ``grade_submission(id)`` uses (e.g. in a Celery worker): from the settings."""
    global _default
    with _default_lock:
        if _default is None:
            settings = get_settings()
            _default = GradingContext(Database.from_settings(settings), settings)
        return _default


def failure_report(exercise: str, code: str, message: str, *, isolation: list[str] | None = None) -> Report:
    """A report for a submission that could not be graded: every case an ``error`` with ``code``."""
    try:
        ex = exercises.get(exercise)
        grader = get_grader(ex.id)
    except Exception:
        return rejected(exercise, "", message, isolation=isolation)
    tests = [CaseReport(name=c.name, visibility=c.visibility, score=0.0, max_score=c.points, outcome="error",
                        message=message, diagnoses=[code], feeds=c.feeds, expects=c.expects) for c in grader.cases]
    # Told at the exercise's level like every graded report; the run-wide message says what happened.
    tests = feedback.compose(tests, [[] for _ in tests], ex.feedback)
    return Report(exercise=ex.id, exercise_version=ex.version, status="graded", score=0.0,
                  max_score=sum(c.points for c in grader.cases),
                  diagnoses=list(dict.fromkeys(d for t in tests for d in t.diagnoses)), seed=None, tests=tests,
                  grader_version=f"{ex.version}+{grader.source_hash}", hidden_included=True,
                  isolation=isolation or [], message=message).with_found([code])


def _run(job: queue.Job, ctx: GradingContext) -> Report:
    try:
        ex = exercises.get(job.exercise)
    except exercises.UnknownExercise as exc:
        return rejected(job.exercise, "", f"{exc} (the exercise was removed from the catalog)")
    return grade_file(ex.id, job.filename, job.content, include_hidden=True, seed=job.seed,
                      runner=ctx.get_runner(), settings=ctx.settings)


def grade_submission(submission_id: int, *, claim: str | None = None,
                     context: GradingContext | None = None) -> str | None:
    """Grade one submission and store its report as the current one.

    Parameters
    ----------
    submission_id : int
    claim : str, optional
        The claim token from :func:`queue.claim_next`; without it the submission is claimed
        here (and nothing happens unless it is queued).
    context : GradingContext, optional
        Default: :func:`default_context`.

    Returns
    -------
    str or None
        The submission's status afterwards (``done``, ``failed``, or ``queued`` when an
        internal error left attempts to retry or the runner could not run code — then
        ``context.unavailable`` says why), or None if this call did not hold the claim.
    """
    ctx = context or default_context()
    if claim is None:
        claim = queue.claim(ctx.db, submission_id, ctx.lease)
        if claim is None:
            return None
    job = queue.load_job(ctx.db, submission_id, claim)
    if job is None:
        return None
    started = time.monotonic()
    status, note = DONE, ""
    try:
        if job.failures >= ctx.settings.max_attempts:  # put back after errors outside the grading itself
            raise RuntimeError(f"gave up after {job.failures} failed attempts")
        report = _run(job, ctx)
        ctx.unavailable = None
    except RunnerUnavailable as exc:  # no sandbox to run untrusted code in: wait, do not fail the student
        ctx.unavailable = f"{type(exc).__name__}: {exc}"
        log.error("cannot grade submission %s now: %s", submission_id, ctx.unavailable)
        queue.release(ctx.db, submission_id, claim, count_failure=False)
        return QUEUED
    except Exception as exc:
        log.exception("grading submission %s failed (attempt %s)", submission_id, job.attempts)
        if job.failures + 1 < ctx.settings.max_attempts:
            queue.release(ctx.db, submission_id, claim, count_failure=True)
            return QUEUED
        status, note = FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        report = failure_report(job.exercise, "grader-error", ERROR_MESSAGE.format(error=type(exc).__name__),
                                isolation=ctx.isolation)
    stored = queue.finish(ctx.db, job, report, status=status, note=note)
    if not stored:
        log.warning("submission %s: the claim was taken back while grading; report discarded", submission_id)
        return None
    ctx.metrics.observe_grading(job.exercise, seconds=time.monotonic() - started,
                                queue_wait=max(0.0, (job.started_at - job.queued_at).total_seconds()),
                                status=status, outcomes=[t.outcome for t in report.tests],
                                diagnoses=report.found_diagnoses)
    ctx.finished(submission_id)
    return status


def recover_interrupted(ctx: GradingContext) -> tuple[list[int], list[int]]:
    """Take back the claims of holders that are gone: requeue their submissions, or fail with
    ``crashed`` those whose holder ran student code in itself and died ``max_attempts`` times.

    A claim is stale once its lease has expired, or at once when ``ctx.sole_holder`` (this
    process holds the SQLite data directory's lock, so no other process can hold a claim).
    With a sandbox, a submission cannot end the grading process: a death there is the
    service's, never counted toward ``max_attempts``.  Returns (requeued, failed).
    """
    requeued, failed = [], []
    for stale in queue.stale(ctx.db, exclude_owner=ctx.lease.owner, every_running=ctx.sole_holder):
        failures = stale.failures + 1 if stale.inprocess else stale.failures
        if stale.inprocess and failures >= ctx.settings.max_attempts:
            report = failure_report(stale.exercise, "crashed", CRASHED_MESSAGE.format(n=failures),
                                    isolation=ctx.isolation)
            if queue.fail_stale(ctx.db, stale.submission_id, report, note=f"interrupted {failures} times",
                                every_running=ctx.sole_holder):
                failed.append(stale.submission_id)
                ctx.metrics.observe_grading(stale.exercise, seconds=0.0, queue_wait=0.0, status=FAILED,
                                            outcomes=[t.outcome for t in report.tests], diagnoses=report.diagnoses)
                ctx.finished(stale.submission_id)
        elif queue.requeue_stale(ctx.db, stale.submission_id, count_failure=stale.inprocess,
                                 every_running=ctx.sole_holder):
            requeued.append(stale.submission_id)
    if requeued or failed:
        log.warning("took back stale claims at %s: requeued %s, failed as crashed %s",
                    utcnow().isoformat(timespec="seconds"), requeued, failed)
    return requeued, failed
