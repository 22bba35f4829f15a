"""The dashboard's aggregations, on SQLite and PostgreSQL: they count students (not submissions),
separate a student's latest attempt from earlier ones, and give the API's gradebook."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from service.dashboard import queries
from service.db import DONE, QUEUED, GradingReport, Submission, User

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def add_user(session, name: str, role: str = "student") -> int:
    user = User(name=name, role=role)
    session.add(user)
    session.flush()
    return user.id


def add_attempt(session, user_id: int, exercise: str, score: float | None, codes=(), *, tests=(), when=T0,
                stale: list[tuple[float, list[str]]] = ()) -> int:
    """A submission with a current report (``score`` None: still queued) and ``stale`` superseded reports."""
    sub = Submission(user_id=user_id, exercise=exercise, filename="s.py", content=b"x = 1\n", size=6,
                     sha256="0" * 64, created_at=when, queued_at=when, status=QUEUED if score is None else DONE)
    session.add(sub)
    session.flush()
    for old_score, old_codes in stale:
        session.add(GradingReport(submission_id=sub.id, is_current=False, status="graded", score=old_score,
                                  max_score=19.0, diagnoses=old_codes, report={"tests": []}, created_at=when))
    if score is not None:
        report = {"tests": [{"name": n, "outcome": o} for n, o in tests]}
        session.add(GradingReport(submission_id=sub.id, is_current=True, status="graded", score=score,
                                  max_score=19.0, diagnoses=list(codes), report=report,
                                  created_at=when + timedelta(seconds=2)))
    session.flush()
    return sub.id


def test_codes_are_ranked_by_students_on_their_latest_attempt_and_ever(db):
    with db.write_session() as s:
        ada, bo, cy = (add_user(s, n) for n in ("ada", "bo", "cy"))
        prof = add_user(s, "prof", "instructor")
        # ada hits dW-transposed three times: still one student
        for _ in range(3):
            add_attempt(s, ada, "dense", 11, ["wrong-shape", "dW-transposed"])
        ada_last = add_attempt(s, ada, "dense", 15, ["grad-averaged"])
        add_attempt(s, bo, "dense", 11, ["dW-transposed"])
        bo_last = add_attempt(s, bo, "dense", 11, ["dW-transposed"])
        cy_last = add_attempt(s, cy, "dense", 19)
        add_attempt(s, cy, "dense", None)  # queued: not a graded attempt
        add_attempt(s, prof, "dense", 0, ["dW-transposed"])  # instructors are not the class
        add_attempt(s, cy, "lora", 3, ["adapter-dead"])  # another exercise
        # a superseded report's codes do not count: the regrade replaced it
        add_attempt(s, cy, "dense", None, stale=[(0, ["timeout"])])
    with db.session() as s:
        stats = queries.exercise_stats(s, exercise="dense")
    by_code = {c.code: c for c in stats.codes}
    assert [c.code for c in stats.codes] == ["dW-transposed", "grad-averaged", "wrong-shape"]
    assert (by_code["dW-transposed"].latest, by_code["dW-transposed"].ever) == (1, 2)
    assert (by_code["grad-averaged"].latest, by_code["grad-averaged"].ever) == (1, 1)
    assert (by_code["wrong-shape"].latest, by_code["wrong-shape"].ever) == (0, 1)
    assert "timeout" not in by_code and "adapter-dead" not in by_code
    assert by_code["dW-transposed"].explanation.startswith("dW is the transpose")
    # the students behind a code: each once, with their newest submission carrying it, latest attempts first
    assert by_code["dW-transposed"].examples[0] == ("bo", bo_last, True)
    assert [(n, latest) for n, _sid, latest in by_code["dW-transposed"].examples] == [("bo", True), ("ada", False)]
    assert by_code["grad-averaged"].examples == [("ada", ada_last, True)]
    assert stats.students == 3 and sorted(stats.best_fractions) == [11 / 19, 15 / 19, 1.0]
    assert cy_last


def test_case_pass_rates_are_over_each_students_latest_attempt(db):
    with db.write_session() as s:
        ada, bo = add_user(s, "ada"), add_user(s, "bo")
        add_attempt(s, ada, "dense", 0, tests=[("forward: small batch", "fail")])
        add_attempt(s, ada, "dense", 19, tests=[("forward: small batch", "pass"), ("backward: small batch", "pass")])
        add_attempt(s, bo, "dense", 2, tests=[("forward: small batch", "pass"), ("backward: small batch", "error")])
    with db.session() as s:
        cases = {c.name: (c.passed, c.attempts) for c in queries.exercise_stats(s, exercise="dense").cases}
    assert cases == {"forward: small batch": (2, 2), "backward: small batch": (1, 2)}


def test_activity_counts_today_the_queue_and_the_wait_of_the_last_hour(db):
    now = T0 + timedelta(hours=3)
    with db.write_session() as s:
        ada = add_user(s, "ada")
        add_attempt(s, ada, "dense", 19, when=now - timedelta(minutes=10))  # waited 2 s
        add_attempt(s, ada, "dense", 19, when=now - timedelta(minutes=5))
        add_attempt(s, ada, "dense", None, when=now - timedelta(minutes=1))
        add_attempt(s, ada, "dense", 3, when=now - timedelta(days=3))  # neither today nor the last hour
    with db.session() as s:
        act = queries.activity(s, now=now)
        latest = queries.latest_report_id(s)
    assert (act.queued, act.running, act.graded_last_hour) == (1, 0, 2)
    # to the millisecond: SQLite computes the wait from Julian days (the page shows tenths of a second)
    assert act.latency_p50 == pytest.approx(2.0, abs=1e-3) and act.latency_p95 == pytest.approx(2.0, abs=1e-3)
    assert act.submitted_today == 3
    assert latest == 3  # the queued submission has no report yet


def test_among_codes_hit_by_as_many_students_the_exercises_own_mistake_ranks_first(db):
    with db.write_session() as s:
        for name in ("ada", "bo"):
            add_attempt(s, add_user(s, name), "dense", 11, ["bad-return-type", "dW-transposed"])
    with db.session() as s:
        stats = queries.exercise_stats(s, exercise="dense")
    assert [c.code for c in stats.codes] == ["dW-transposed", "bad-return-type"]
    assert [(c.latest, c.ever) for c in stats.codes] == [(2, 2), (2, 2)]


def test_the_wait_of_the_last_hour_is_read_off_the_database_at_the_median_and_95_percent(db):
    now = T0 + timedelta(hours=5)
    with db.write_session() as s:
        ada = add_user(s, "ada")
        for minutes, wait in ((50, 1.0), (40, 10.0), (30, 3.0), (20, 2.0), (90, 60.0)):  # the last: over an hour ago
            sid = add_attempt(s, ada, "dense", None, when=now - timedelta(minutes=minutes))
            s.get(Submission, sid).status = DONE
            s.add(GradingReport(submission_id=sid, is_current=True, status="graded", score=19, max_score=19,
                                diagnoses=[], report={"tests": []}, trigger="submit",
                                created_at=now - timedelta(minutes=minutes) + timedelta(seconds=wait)))
            s.add(GradingReport(submission_id=sid, status="graded", score=19, max_score=19, diagnoses=[],
                                report={"tests": []}, trigger="regrade", created_at=now))  # not a wait for a report
    with db.session() as s:
        act = queries.activity(s, now=now)
        assert queries.queue(s) == (0, 0)
    assert act.graded_last_hour == 4
    assert act.latency_p50 == pytest.approx(2.5, abs=1e-3) and act.latency_p95 == pytest.approx(10.0, abs=1e-3)
