"""The schema comes from the packaged migrations, matches the models, and guards its invariants."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import exc, select, text

from service.db import Database, GradingReport, Submission, Token, User
from service.db.engine import make_engine
from service.db.migrate import current_revision, head_revision, upgrade
from service.db.models import Base
from service.db.tokens import authenticate, create_token, revoke



@pytest.fixture
def db(fresh_db_url):
    database = Database(make_engine(fresh_db_url), fresh_db_url)
    yield database
    database.dispose()


def test_nngrade_db_upgrade_creates_the_schema_of_the_models(db, fresh_db_url, tmp_path):
    assert current_revision(db) is None
    if db.is_sqlite:  # the embedded default: nngrade.sqlite3 in the data directory
        env = {**os.environ, "NNGRADE_DATA_DIR": str(pathlib.Path(db.engine.url.database).parent)}
        env.pop("DATABASE_URL", None)
    else:
        env = {**os.environ, "DATABASE_URL": fresh_db_url}
    done = subprocess.run([sys.executable, "-m", "nngrade", "db", "upgrade"], env=env, capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"schema at revision {head_revision()}" in done.stdout
    assert current_revision(db) == head_revision()
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    assert upgrade(db) == head_revision()  # idempotent


def test_the_embedded_default_is_sqlite_in_wal_mode_in_the_data_dir(tmp_path):
    from service.config import Settings

    db = Database.from_settings(Settings(data_dir=tmp_path / "data", database_url=None))
    upgrade(db)
    assert (tmp_path / "data" / "nngrade.sqlite3").is_file()
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    db.dispose()


def _submission(db) -> int:
    with db.write_session() as session:
        user = User(name="ann", role="student")
        session.add(user)
        session.flush()
        sub = Submission(user_id=user.id, exercise="dense", filename="a.py", content=b"x", size=1, sha256="0" * 64)
        session.add(sub)
        session.flush()
        return sub.id


def _report(sid: int, current: bool) -> GradingReport:
    return GradingReport(submission_id=sid, is_current=current, status="graded", score=1, max_score=2,
                         report={"exercise": "dense"})


def test_the_database_refuses_a_second_current_report(db):
    upgrade(db)
    sid = _submission(db)
    with db.write_session() as session:
        session.add_all([_report(sid, True), _report(sid, False), _report(sid, False)])
    with pytest.raises(exc.IntegrityError):
        with db.write_session() as session:
            session.add(_report(sid, True))
    with db.session() as session:
        assert len(list(session.scalars(select(GradingReport).where(GradingReport.is_current)))) == 1


def test_tokens_are_stored_as_hashes_and_revocable(db):
    upgrade(db)
    with db.write_session() as session:
        token, plaintext = create_token(session, name="ann", role="student")
        token_id = token.id
    with db.session() as session:
        stored = session.get(Token, token_id)
        assert plaintext not in (stored.sha256, stored.prefix) and len(stored.prefix) < len(plaintext) // 3
        assert authenticate(session, plaintext).name == "ann"
        assert authenticate(session, plaintext + "x") is None
    with db.engine.connect() as conn:
        dump = " ".join(str(v) for row in conn.execute(text("SELECT * FROM tokens")) for v in row)
    assert plaintext not in dump
    with db.write_session() as session:
        revoke(session, token_id)
    with db.session() as session:
        assert authenticate(session, plaintext) is None
