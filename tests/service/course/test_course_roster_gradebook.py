"""The roster import (all rows or none) and the Canvas gradebook built from a seeded course."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from service.course import CourseError
from service.course.assignments import create_assignment, grant_extension, revoke_extension
from service.course.gradebook import build, canvas_csv
from service.course.roster import import_roster, parse_roster, remove_student
from service.db import GradingReport, Submission, Token, User
from service.db.tokens import authenticate, create_token

UTC = timezone.utc
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DUE = datetime(2026, 12, 10, 23, 59, tzinfo=UTC)
ROSTER = ("name,email,section,lms_id,sis_user_id,sis_login_id\n"
          "Ada Lovelace,ada@example.edu,A,1001,s1001,ada\n"
          "Bob Byte,bob@example.edu,B,1002,s1002,bob\n"
          "Cy Cache,cy@example.edu,A,1003,s1003,cy\n")


def imported(db, text=ROSTER):
    with db.write_session() as session:
        return {i.entry.user.name: i.token for i in import_roster(session, rows=parse_roster(text), now=NOW)}


def test_import_creates_students_with_working_tokens_and_reimport_updates(db):
    tokens = imported(db)
    assert set(tokens) == {"Ada Lovelace", "Bob Byte", "Cy Cache"} and all(tokens.values())
    with db.session() as session:
        assert authenticate(session, tokens["Bob Byte"]).name == "Bob Byte"
    again = imported(db, ROSTER.replace("1002,s1002,bob", "2002,s2002,bobby"))
    assert set(again.values()) == {None}  # already on the roster: details updated, no new token


@pytest.mark.parametrize("text, line", [
    (ROSTER + "Dee,not-an-email,A,,,\n", "line 5: 'not-an-email' is not an e-mail address"),
    (ROSTER + ",dee@example.edu,A,,,\n", "line 5: the name is empty"),
    (ROSTER + "Dee,ada@example.edu,A,,,\n", "line 5: 'ada@example.edu' is already on line 2"),
    (ROSTER + "Dee,dee@example.edu,A\n", "line 5: 3 fields, expected 6"),
    ("name,mail\nAda,ada@example.edu\n", "line 1: unknown column(s) 'mail'"),
])
def test_a_bad_row_names_its_line_and_nothing_is_imported(db, text, line):
    with pytest.raises(CourseError) as bad:
        parse_roster(text)
    assert bad.value.status == 422 and line in bad.value.message and "nothing was changed" in bad.value.message
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0


def test_a_conflict_with_the_database_imports_nothing(db):
    with db.write_session() as session:
        create_token(session, name="Cy Cache", role="instructor")
    with pytest.raises(CourseError, match="line 4: 'Cy Cache' is an instructor"):
        imported(db)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1


def test_remove_revokes_tokens_and_keeps_submissions(db):
    tokens = imported(db)
    with db.write_session() as session:
        ada = session.scalar(select(User).where(User.name == "Ada Lovelace"))
        session.add(Submission(user_id=ada.id, exercise="dense", filename="d.py", content=b"x", size=1,
                               sha256="0" * 64, created_at=NOW, queued_at=NOW))
        _, revoked = remove_student(session, name="Ada Lovelace", now=NOW)
    assert revoked == 1
    with db.session() as session:
        assert authenticate(session, tokens["Ada Lovelace"]) is None
        assert session.scalar(select(func.count()).select_from(Submission)) == 1
        assert session.scalar(select(func.count()).select_from(Token).where(Token.revoked_at.is_(None))) == 2
        assert "Ada Lovelace" not in [r.student for r in build(session).rows]


def graded(session, name, exercise, at, score):
    user = session.scalar(select(User).where(User.name == name))
    sub = Submission(user_id=user.id, exercise=exercise, filename="f.py", content=b"x", size=1, sha256="0" * 64,
                     created_at=at, queued_at=at, status="done")
    session.add(sub)
    session.flush()
    session.add(GradingReport(submission_id=sub.id, is_current=True, status="graded", score=score, max_score=19,
                              report={}))


def test_the_canvas_export_column_by_column(db):
    imported(db)
    with db.write_session() as session:
        create_assignment(session, exercise="dense", title="Dense layer", opens_at=NOW, due_at=DUE,
                          late_until=DUE + timedelta(days=5), late_policy="per-day", penalty_percent=10, now=NOW)
        create_assignment(session, exercise="lora", title="LoRA, init", opens_at=NOW, due_at=DUE, now=NOW)
        grant_extension(session, exercise="dense", student="Cy Cache", due_at=DUE + timedelta(days=3), now=NOW)
        graded(session, "Ada Lovelace", "dense", DUE - timedelta(hours=1), 15)     # on time
        graded(session, "Ada Lovelace", "dense", DUE + timedelta(hours=30), 19)    # 2 days late: 15.2
        graded(session, "Bob Byte", "dense", DUE + timedelta(seconds=1), 19)       # 1 day late: 17.1
        graded(session, "Cy Cache", "dense", DUE + timedelta(days=2), 19)          # on time by extension
        graded(session, "Bob Byte", "lora", DUE - timedelta(days=1), 20)
    with db.session() as session:
        text = canvas_csv(build(session, mode="best"))
        on_time = build(session, mode="on-time-best")
        section_a = build(session, section="A")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Dense layer (19)", "LoRA, init (20)"]
    assert rows[1] == ["Points Possible", "", "", "", "", "19", "20"]
    assert rows[2:] == [["Ada Lovelace", "1001", "s1001", "ada", "A", "15.2", ""],
                        ["Bob Byte", "1002", "s1002", "bob", "B", "17.1", "20"],
                        ["Cy Cache", "1003", "s1003", "cy", "A", "19", ""]]
    assert text.endswith("\r\n") and '"LoRA, init (20)"' in text
    assert {r.student: r.scores["dense"] for r in on_time.rows} == {"Ada Lovelace": 15, "Bob Byte": None,
                                                                   "Cy Cache": 19}
    assert [r.student for r in section_a.rows] == ["Ada Lovelace", "Cy Cache"]


def counted_one_by_one(session, mode: str) -> dict[tuple[str, str], float | None]:
    """The gradebook's rule written plainly, as the specification: judge every submission by the
    course's late policy (Course.timing) in arrival order, and keep what ``mode`` keeps."""
    from service.course.assignments import Course
    from service.course.policy import ON_TIME

    course = Course.load(session)
    kept: dict[tuple[str, str], float | None] = {}
    rows = session.execute(select(User.name, User.id, Submission.exercise, Submission.created_at, GradingReport.score)
                           .join(Submission, Submission.user_id == User.id)
                           .join(GradingReport, GradingReport.submission_id == Submission.id)
                           .where(GradingReport.is_current).order_by(Submission.id))
    for name, user_id, exercise, at, raw in rows:
        timing = course.timing(exercise=exercise, user_id=user_id, submitted_at=at)
        if mode == "on-time-best" and timing is not None and timing.status != ON_TIME:
            continue
        score = raw if timing is None else timing.apply(raw)
        if score is None:
            continue
        previous = kept.get((name, exercise))
        if mode == "latest" or previous is None or score > previous:
            kept[(name, exercise)] = score
    return kept


@pytest.mark.parametrize("mode", ["best", "latest", "on-time-best"])
def test_the_database_aggregate_counts_what_judging_every_submission_would(db, mode):
    """Many submissions around the due date and the late window, extensions granted, replaced and
    revoked, an exercise with no assignment: the gradebook (aggregated in the database, the late
    ones judged one by one) equals judging every submission."""
    import random

    imported(db)
    draw = random.Random(7)
    with db.write_session() as session:
        create_assignment(session, exercise="dense", title="Dense", opens_at=NOW, due_at=DUE,
                          late_until=DUE + timedelta(days=4), late_policy="per-day", penalty_percent=10, now=NOW)
        create_assignment(session, exercise="lora", title="LoRA", opens_at=NOW, due_at=DUE, now=NOW)
        grant_extension(session, exercise="dense", student="Ada Lovelace", due_at=DUE + timedelta(days=1), now=NOW)
        grant_extension(session, exercise="dense", student="Ada Lovelace", due_at=DUE + timedelta(days=2),
                        late_until=DUE + timedelta(days=3), now=NOW)  # replaces the first
        revoked = grant_extension(session, exercise="lora", student="Bob Byte", due_at=DUE + timedelta(days=9),
                                  now=NOW)
        session.flush()
        revoke_extension(session, extension_id=revoked.id, now=NOW)
        grant_extension(session, exercise="lora", student="Cy Cache", due_at=DUE + timedelta(hours=5), now=NOW)
        for _ in range(150):
            at = DUE + timedelta(hours=draw.uniform(-48, 6 * 24), seconds=draw.choice([0, 1, -1]))
            graded(session, draw.choice(["Ada Lovelace", "Bob Byte", "Cy Cache"]),
                   draw.choice(["dense", "lora", "toeplitz"]), at, draw.choice([0, 5, 11.3333, 17, 19]))
    with db.session() as session:
        book = build(session, mode=mode)
        expected = counted_one_by_one(session, mode)
    got = {(row.student, ex): score for row in book.rows for ex, score in row.scores.items() if score is not None}
    assert got == expected
    assert {ex for _, ex in got} == {"dense", "lora", "toeplitz"}
