"""The roster import (all rows or none) and the Canvas gradebook built from a seeded course."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from service.course import CourseError
from service.course.assignments import create_assignment, grant_extension
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
