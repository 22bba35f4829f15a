"""The database queue on its own: fairness, priorities, claims, recovery, and grade_submission(id)."""

from __future__ import annotations

import pathlib

import pytest
from sqlalchemy import select, update

from service.config import Settings
from service.db import QUEUED, RUNNING, GradingReport, Submission, User
from service.worker import GradingContext, grade_submission, recover_interrupted
from service.worker import queue

ROOT = pathlib.Path(__file__).resolve().parents[3]
REFERENCE = ROOT / "reference" / "dense.py"


@pytest.fixture
def context(db, tmp_path):
    return GradingContext(db, Settings(data_dir=tmp_path, max_attempts=2))


def add(db, student: str, n: int = 1, source: bytes = b"x = 1\n", **fields) -> list[int]:
    with db.write_session() as session:
        user = session.scalar(select(User).where(User.name == student))
        if user is None:
            user = User(name=student, role="student")
            session.add(user)
            session.flush()
        subs = [Submission(user_id=user.id, exercise="dense", filename="dense.py", content=source, size=len(source),
                           sha256="0" * 64, status=QUEUED, **fields) for _ in range(n)]
        session.add_all(subs)
        session.flush()
        return [s.id for s in subs]


def drain(db) -> list[int]:
    order = []
    while (item := queue.claim_next(db)) is not None:
        order.append(item[0])
    return order


def test_a_burst_from_one_student_does_not_starve_the_others(db):
    burst = add(db, "ann", 5)
    (bea,) = add(db, "bea")
    (cid,) = add(db, "cid")
    assert drain(db) == [burst[0], bea, cid, *burst[1:]]


def test_arrival_order_between_students_and_new_work_before_regrades(db):
    regrades = add(db, "ann", 2, priority=1)
    first = add(db, "bea")
    second = add(db, "cid")
    assert drain(db) == [*first, *second, *regrades]


def test_a_claim_is_taken_once_and_a_stale_claim_cannot_store(db, context):
    (sid,) = add(db, "ann", source=REFERENCE.read_bytes())
    claimed = queue.claim_next(db)
    assert claimed is not None and claimed[0] == sid
    assert queue.claim(db, sid) is None and queue.claim_next(db) is None
    job = queue.load_job(db, sid, claimed[1])
    assert queue.load_job(db, sid, "not-the-claim") is None
    # a live claim is never taken back; once its holder is gone (the lease expired) it is
    assert recover_interrupted(context) == ([], [])
    with db.write_session() as session:
        session.execute(update(Submission).where(Submission.id == sid).values(lease_expires_at=None))
    assert recover_interrupted(context) == ([sid], [])
    assert grade_submission(sid, context=context) == "done"
    # the first worker wakes up late: its report is refused, the current one stays
    from service.worker.tasks import failure_report

    assert queue.finish(db, job, failure_report("dense", "grader-error", "late")) is False
    with db.session() as session:
        reports = list(session.scalars(select(GradingReport).where(GradingReport.submission_id == sid)))
    assert len(reports) == 1 and reports[0].is_current and reports[0].report["status"] == "graded"


def test_recovery_fails_a_submission_that_stopped_its_worker_twice(db, context):
    """Only where student code ran in the grading process (in-process runner); with a sandbox, a
    grading process that died is the service's failure and never counts."""
    once, twice, sandboxed = add(db, "ann", 3)
    with db.write_session() as session:
        session.execute(update(Submission).where(Submission.id == once).values(
            status=RUNNING, attempts=1, claim="a", claim_inprocess=True))
        session.execute(update(Submission).where(Submission.id == twice).values(
            status=RUNNING, attempts=2, failures=1, claim="b", claim_inprocess=True))
        session.execute(update(Submission).where(Submission.id == sandboxed).values(
            status=RUNNING, attempts=5, failures=1, claim="c", claim_inprocess=False))
    assert recover_interrupted(context) == ([once, sandboxed], [twice])
    with db.session() as session:
        assert session.get(Submission, sandboxed).failures == 1
    with db.session() as session:
        assert session.get(Submission, once).status == QUEUED
        failed = session.get(Submission, twice)
        report = session.scalar(select(GradingReport).where(GradingReport.submission_id == twice))
    assert failed.status == "failed" and report.is_current and report.trigger == "recovery"
    assert report.diagnoses == ["crashed"] and report.score == 0 and report.max_score > 0
    assert all(t["outcome"] == "error" and t["diagnoses"] == ["crashed"] for t in report.report["tests"])


def test_grade_submission_by_id_is_the_whole_unit_of_work(db, context):
    """What a Celery task would call: claim, grade through service.grading.grade, store."""
    (sid,) = add(db, "ann", source=REFERENCE.read_bytes())
    finished = []
    context.on_finished = finished.append
    assert grade_submission(sid, context=context) == "done"
    assert grade_submission(sid, context=context) is None  # not queued any more: nothing happens
    assert finished == [sid]
    with db.session() as session:
        sub = session.get(Submission, sid)
        report = session.scalar(select(GradingReport).where(GradingReport.submission_id == sid))
    assert sub.status == "done" and sub.attempts == 1 and sub.claim is None
    assert report.report["hidden_included"] and report.seed is not None
    assert report.grader_version.startswith(report.exercise_version)
    assert context.metrics.graded[("dense", "done")] == 1


def test_an_unreadable_stored_file_ends_rejected_not_stuck(db, context):
    (sid,) = add(db, "ann", source=b"\xff\xfe")
    assert grade_submission(sid, context=context) == "done"
    with db.session() as session:
        report = session.scalar(select(GradingReport).where(GradingReport.submission_id == sid))
    assert report.status == "rejected" and "UTF-8" in report.report["message"]


def test_in_exam_mode_the_student_sees_no_code_but_the_class_counts_keep_them(db, context, exam_catalog):
    """``feedback = "score"``: the stored report (what the API and the student get) says pass or
    fail only, while the row's codes, which the dashboard ranks, name the mistake."""
    wrong = ROOT / "tests" / "graders" / "solutions" / "dense" / "dW_transposed.py"
    (sid,) = add(db, "ann", source=wrong.read_bytes())
    assert grade_submission(sid, context=context) == "done"
    with db.session() as session:
        row = session.scalar(select(GradingReport).where(GradingReport.submission_id == sid))
    assert row.report["diagnoses"] == [] and all(t["diagnoses"] == [] and t["message"] == ""
                                                 for t in row.report["tests"])
    assert "dW-transposed" in row.diagnoses and "dW-transposed" not in str(row.report)
    assert context.metrics.diagnoses[("dense", "dW-transposed")] == 1


def test_a_failure_report_is_told_at_the_exercises_level(exam_catalog):
    from service.worker.tasks import failure_report

    report = failure_report("dense", "grader-error", "The grading service could not grade this submission.")
    assert report.diagnoses == [] and all(t.diagnoses == [] and t.message == "" for t in report.tests)
    assert report.found_diagnoses == ["grader-error"] and "could not grade" in report.message
    assert "grader-error" not in report.model_dump_json()
