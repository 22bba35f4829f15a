"""The late policy and the submission gate, judged at moments the test chooses (no clock, no sleep),
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from service.course import CourseError
from service.course.assignments import (Course, admit_submission, create_assignment, grant_extension,
                                        revoke_extension, update_assignment)
from service.course.policy import LatePolicy, assess, window
from service.db import Submission
from service.db.tokens import create_token

UTC = timezone.utc
DUE = datetime(2026, 12, 10, 22, 59, tzinfo=UTC)  # 23:59 in Berlin
SECOND = timedelta(seconds=1)


@pytest.fixture
def course(db):
    """dense due 2026-12-10 23:59 Berlin, late until three days later, 10% per day capped at 25%; a student."""
    with db.write_session() as session:
        create_assignment(session, exercise="dense", opens_at=datetime(2026, 12, 1, 9, 0),
                          due_at=datetime(2026, 12, 10, 23, 59), late_until=datetime(2026, 12, 13, 23, 59),
                          timezone="Europe/Berlin", late_policy="per-day", penalty_percent=10, penalty_cap=25,
                          now=datetime(2026, 11, 30, tzinfo=UTC))
        token, _ = create_token(session, name="ada", role="student")
        return token.user_id


def timing_at(db, user_id, when):
    with db.session() as session:
        return Course.load(session).timing(exercise="dense", user_id=user_id, submitted_at=when)


def test_dates_are_entered_in_the_instructors_zone_and_stored_in_utc(db, course):
    with db.session() as session:
        a = Course.load(session).assignments["dense"]
    assert a.due_at == DUE and a.opens_at == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert a.late_until == datetime(2026, 12, 13, 22, 59, tzinfo=UTC)


def test_one_second_before_the_due_date_is_on_time_one_second_after_is_late(db, course):
    before, at, after = (timing_at(db, course, DUE + d) for d in (-SECOND, timedelta(0), SECOND))
    assert before.status == at.status == "on-time" and before.apply(19) == 19
    assert after.status == "late" and after.penalty_percent == 10 and after.apply(19) == pytest.approx(17.1)
    assert after.late_by == SECOND and "late by 1 s: 10% penalty" == after.describe()


def test_per_day_penalties_count_started_days_and_stop_at_the_cap():
    policy = LatePolicy("per-day", 10, 25)
    assert [policy.penalty(d) for d in (timedelta(0), timedelta(hours=23), timedelta(days=1),
                                        timedelta(days=1, seconds=1), timedelta(days=5))] == [0, 10, 10, 20, 25]
    assert LatePolicy("per-hour", 5, 100).penalty(timedelta(minutes=61)) == 10
    assert LatePolicy("fixed", 30).penalty(timedelta(days=2)) == 30
    assert LatePolicy().penalty(timedelta(days=2)) == 0
    with pytest.raises(CourseError, match="percentage from 0 to 100"):
        LatePolicy("per-day", 120)


def test_the_gate_refuses_before_opening_and_after_late_until(db, course):
    opens = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    closes = datetime(2026, 12, 13, 22, 59, tzinfo=UTC)
    with db.write_session() as session:
        with pytest.raises(CourseError) as early:
            admit_submission(session, user_id=course, exercise="dense", instructor=False, now=opens - SECOND)
        assert early.value.status == 404 and early.value.code == "assignment-not-open"
        assert "2026-12-01 09:00:00 Europe/Berlin" in early.value.message
        admit_submission(session, user_id=course, exercise="dense", instructor=False, now=opens)
        admit_submission(session, user_id=course, exercise="dense", instructor=False, now=closes)
        with pytest.raises(CourseError) as late:
            admit_submission(session, user_id=course, exercise="dense", instructor=False, now=closes + SECOND)
        assert late.value.status == 409 and late.value.code == "assignment-closed"
        assert "2026-12-13 23:59:00 Europe/Berlin" in late.value.message and "due 2026-12-10" in late.value.message
        admit_submission(session, user_id=course, exercise="dense", instructor=True, now=closes + SECOND)
        admit_submission(session, user_id=course, exercise="lora", instructor=False, now=closes + SECOND)


def test_an_extension_moves_the_dates_for_one_student_and_revoking_it_restores_them(db, course):
    now = datetime(2026, 12, 9, tzinfo=UTC)
    with db.write_session() as session:
        ext = grant_extension(session, exercise="dense", student="ada", due_at=datetime(2026, 12, 15, 23, 59),
                              reason="illness", now=now)
        ext_id = ext.id
    two_days_late = DUE + timedelta(days=2)
    timing = timing_at(db, course, two_days_late)
    assert timing.status == "on-time" and timing.extended and timing.apply(19) == 19
    # the late window keeps its length (3 days) after the new due date
    after_new_close = datetime(2026, 12, 18, 22, 59, tzinfo=UTC) + SECOND
    assert timing_at(db, course, after_new_close).status == "after-deadline"
    with db.write_session() as session:
        admit_submission(session, user_id=course, exercise="dense", instructor=False,
                         now=datetime(2026, 12, 18, 22, 59, tzinfo=UTC))
        revoke_extension(session, extension_id=ext_id, now=now)
    assert timing_at(db, course, two_days_late).penalty_percent == 20


def test_after_the_deadline_earns_nothing_when_the_dates_move_back(db, course):
    late_submission = DUE + timedelta(days=2)
    with db.write_session() as session:
        update_assignment(session, exercise="dense", clear_late_until=True, now=DUE)
    timing = timing_at(db, course, late_submission)
    assert timing.status == "after-deadline" and timing.apply(19) is None


def test_invalid_dates_and_zones_are_refused_with_what_was_expected(db):
    with db.write_session() as session:
        with pytest.raises(CourseError, match="before the opening"):
            create_assignment(session, exercise="dense", opens_at=DUE, due_at=DUE - SECOND, now=DUE)
        with pytest.raises(CourseError, match="unknown time zone 'Mars/Olympus'"):
            create_assignment(session, exercise="dense", opens_at=DUE, due_at=DUE, timezone="Mars/Olympus", now=DUE)
        with pytest.raises(CourseError, match="unknown exercise"):
            create_assignment(session, exercise="nope", opens_at=DUE, due_at=DUE, now=DUE)


def test_the_attempt_cap_counts_the_students_submissions(db, course):
    with db.write_session() as session:
        update_assignment(session, exercise="dense", max_attempts=2, now=DUE)
    now = DUE - timedelta(days=1)
    for _ in range(2):
        with db.write_session(exclusive=True) as session:
            admit_submission(session, user_id=course, exercise="dense", instructor=False, now=now)
            session.add(Submission(user_id=course, exercise="dense", filename="dense.py", content=b"x", size=1,
                                   sha256="0" * 64, created_at=now, queued_at=now))
    with db.write_session(exclusive=True) as session, pytest.raises(CourseError) as capped:
        admit_submission(session, user_id=course, exercise="dense", instructor=False, now=now)
    assert capped.value.status == 429 and "all 2 graded attempts" in capped.value.message


def test_window_without_late_until_closes_at_the_due_date():
    win = window(opens_at=DUE - timedelta(days=1), due_at=DUE, late_until=None)
    assert win.state(now=DUE) == "open" and win.state(now=DUE + SECOND) == "closed"
    assert assess(win, LatePolicy("per-day", 10), submitted_at=DUE + SECOND).status == "after-deadline"
