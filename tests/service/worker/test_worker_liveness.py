"""Worker processes announced in the database: alive while they beat, forgotten once long gone."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from service.db.models import WorkerProcess, utcnow
from service.worker.liveness import FORGET_AFTER, MISSED_BEATS, Liveness, alive
from service.worker.queue import Lease


def announce(db, **kw) -> Liveness:
    worker = Liveness(db, concurrency=1, isolation=["process"], interval=60, lease=Lease(owner=kw.pop("owner")))
    worker.beat()
    return worker


def age(db, worker: Liveness, by: timedelta) -> None:
    with db.write_session() as session:
        session.execute(update(WorkerProcess).where(WorkerProcess.id == worker.id)
                        .values(last_seen=utcnow() - by))


def test_a_worker_that_missed_its_beats_is_gone_and_a_long_gone_one_is_forgotten(db):
    live, silent, dead = (announce(db, owner=name) for name in ("live", "silent", "dead"))
    age(db, silent, timedelta(seconds=MISSED_BEATS * 60 + 5))
    age(db, dead, FORGET_AFTER + timedelta(minutes=1))
    assert [w.id for w in alive(db)] == [live.id]
    live.beat()
    with db.session() as session:
        kept = set(session.scalars(select(WorkerProcess.id)))
    assert kept == {live.id, silent.id}  # the silent one is still shown to an operator, the dead one is not


def test_a_clean_stop_removes_the_row(db):
    worker = Liveness(db, concurrency=1, isolation=["process"], interval=60, lease=Lease(owner="w"))
    worker.start()
    assert [w.id for w in alive(db)] == [worker.id]
    worker.stop()
    assert alive(db) == []
