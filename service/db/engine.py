"""Engines and sessions: SQLite (WAL) in the data directory by default, PostgreSQL by URL.

SQLite transactions that write begin with ``BEGIN IMMEDIATE`` (:func:`write_session`), so
concurrent writers wait for the lock (``busy_timeout``) instead of failing with
"database is locked" when a read transaction tries to upgrade; plain reads stay deferred
and never block in WAL mode.  Commits are ``synchronous=FULL``: a submission the API has
answered for is on disk.  Only writes that may be lost in a power failure without harm ask
for less (``write_session(durable=False)``: a claim, which then reverts to ``queued``).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from service.config import Settings

BUSY_TIMEOUT_MS = 30_000
EXCLUSIVE_LOCK = 0x6E6E6772  # "nngr": the advisory lock of exclusive write transactions on PostgreSQL


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Let SQLAlchemy's "begin" event decide how a transaction starts (pysqlite would emit a
    # deferred BEGIN of its own before the first write).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _sqlite_begin(conn) -> None:
    options = conn.get_execution_options()
    # Set on every transaction: a pooled connection must not keep a lighter setting from the last one.
    conn.exec_driver_sql(f"PRAGMA synchronous={options.get('sqlite_synchronous', 'FULL')}")
    conn.exec_driver_sql(f"BEGIN {options.get('sqlite_begin', '')}".strip())


#: SQLite errors after which a connection stays broken even once the storage is back: one opened
#: while the file was read-only stays read-only, one that hit an I/O error keeps failing.
SQLITE_BROKEN = ("readonly", "read-only", "disk i/o error", "unable to open", "disk is full")


def _sqlite_invalidate_broken(context) -> None:
    """Treat a broken SQLite connection as a lost one: SQLAlchemy then discards every pooled
    connection, and the next request opens fresh ones (which work as soon as the storage does)."""
    error = context.original_exception
    if isinstance(error, sqlite3.Error) and any(word in str(error).lower() for word in SQLITE_BROKEN):
        context.is_disconnect = True


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL mode, a busy timeout and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
                               pool_size=8, max_overflow=32)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "handle_error", _sqlite_invalidate_broken)
        return engine
    connect_args = {"connect_timeout": 10} if parsed.get_backend_name() == "postgresql" else {}
    return create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=32, connect_args=connect_args)


#: Errors that mean the storage, not the request, failed: the database is unreachable, read-only,
#: out of space or locked for too long.  (Constraint violations are not among them.)
STORAGE_ERRORS = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError)


def is_storage_error(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) is the database failing rather than the request."""
    while error is not None:
        if isinstance(error, STORAGE_ERRORS) or (isinstance(error, exc.DBAPIError) and error.connection_invalidated):
            return True
        error = error.__cause__
    return False


@dataclass
class Database:
    """One engine and its session factories."""

    engine: Engine
    url: str

    def __post_init__(self) -> None:
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        writer = self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else self.engine
        self._write = sessionmaker(writer, expire_on_commit=False)
        # WAL with synchronous=NORMAL: a commit survives the process's death, not the machine's.
        light = writer.execution_options(sqlite_synchronous="NORMAL") if self.is_sqlite else self.engine
        self._light_write = sessionmaker(light, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> "Database":
        url = settings.sqlalchemy_url
        if make_url(url).get_backend_name() == "sqlite":
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        return cls(make_engine(url), url)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def sqlite_dir(self) -> Path | None:
        """The directory of the SQLite file (None for PostgreSQL or an in-memory database)."""
        return sqlite_dir_of(self.url)

    def session(self) -> Session:
        """A session for reading (and writes that cannot race, e.g. from the CLI)."""
        return self._read()

    @contextlib.contextmanager
    def write_session(self, *, exclusive: bool = False, durable: bool = True) -> Iterator[Session]:
        """A session whose transaction takes the write lock at once; commits on success.

        ``exclusive``: no other exclusive transaction runs at the same time, so a count and the
        insert it allows are atomic (SQLite's write lock already is; PostgreSQL takes an advisory lock).
        ``durable=False``: the commit does not wait for the disk (SQLite ``synchronous=NORMAL``,
        PostgreSQL ``synchronous_commit=off``).  It survives the service's death, and the database
        stays consistent, but a power failure or an OS crash may undo it: only for writes whose
        loss is harmless.  The next durable commit makes it durable too.
        """
        with (self._write if durable else self._light_write)() as session, session.begin():
            if not durable and not self.is_sqlite:
                session.execute(text("SET LOCAL synchronous_commit = off"))
            if exclusive and not self.is_sqlite:
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EXCLUSIVE_LOCK})
            yield session

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def probe_write(self) -> None:
        """Commit a write that changes nothing (the migration row, rewritten): raises if the
        database cannot take writes now (read-only, full, unreachable)."""
        with self.write_session() as session:
            session.execute(text("UPDATE alembic_version SET version_num = version_num"))

    def dispose(self) -> None:
        self.engine.dispose()


def sqlite_dir_of(url: str) -> Path | None:
    """The directory of ``url``'s SQLite file; None for another database or an in-memory one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).resolve().parent


def masked_url(url: str) -> str:
    """``url`` with its password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy understands: show nothing of it
        return "***"
