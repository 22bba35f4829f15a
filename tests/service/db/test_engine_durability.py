"""Commits wait for the disk unless a write asks not to, and a lighter setting never outlives its transaction."""

from __future__ import annotations

from sqlalchemy import text

from service.db import QUEUED, RUNNING, Submission, User
from service.worker import queue

#: What each backend reports for a durable commit and for a light one.
SETTING = {"sqlite": ("PRAGMA synchronous", 2, 1), "postgresql": ("SHOW synchronous_commit", "on", "off")}


def _setting(session, db):
    query, _, _ = SETTING[db.engine.dialect.name]
    value = session.execute(text(query)).scalar()
    return int(value) if db.is_sqlite else value


def test_only_a_light_write_skips_waiting_for_the_disk_and_the_next_transaction_waits_again(db):
    _, full, light = SETTING[db.engine.dialect.name]
    with db.write_session() as session:
        assert _setting(session, db) == full
    for _ in range(3):  # the same pooled connections go round: none may keep the light setting
        with db.write_session(durable=False) as session:
            assert _setting(session, db) == light
        with db.write_session() as session:
            assert _setting(session, db) == full
        with db.write_session(exclusive=True) as session:
            assert _setting(session, db) == full
        with db.session() as session, session.begin():
            assert _setting(session, db) == full


def test_a_claim_made_with_a_light_commit_is_seen_by_every_other_connection(db):
    with db.write_session() as session:
        user = User(name="ada", role="student")
        session.add(user)
        session.flush()
        sub = queue.enqueue(session, user_id=user.id, exercise="dense", filename="dense.py", content=b"x = 1\n",
                            sha256="0" * 64)
        submission_id = sub.id
    claimed = queue.claim_next(db)
    assert claimed is not None and claimed[0] == submission_id
    with db.engine.connect() as other:  # a new connection, not the claim's
        status, claim = other.execute(text("SELECT status, claim FROM submissions WHERE id = :i"),
                                      {"i": submission_id}).one()
    assert (status, claim) == (RUNNING, claimed[1])
    assert queue.claim_next(db) is None
    assert queue.release(db, submission_id, claimed[1], count_failure=False)
    with db.session() as session:
        assert session.get(Submission, submission_id).status == QUEUED
