"""Fixtures for the service's tests: the real thing, over HTTP.

* ``db_url`` — a throw-away database, once SQLite in a temporary directory and once a new
  database on the machine's PostgreSQL (``DATABASE_URL``'s server if set, else
  ``postgres@127.0.0.1:5432``), dropped afterwards.  PostgreSQL unreachable is a failure.
* ``service`` — ``nngrade serve`` (uvicorn) started as a subprocess on a free loopback port
  against ``db_url``, shared by the tests of one backend.
* ``start_service(**settings)`` — a dedicated service with its own settings, stopped after the test.
* ``tokens`` — an instructor and two students of ``service``.
* ``course`` — a dedicated service whose clock the test sets (``course.clock.set(…)``; nothing
  sleeps), with an instructor, for the course's dates, late policy and roster.
"""

from __future__ import annotations

import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = pathlib.Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "reference"
SOLUTIONS = ROOT / "tests" / "graders" / "solutions"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DB_ENV = ("DATABASE_URL", "NNGRADE_DATABASE_URL")
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(**settings: object) -> dict[str, str]:
    """The environment of a child process: this one's (so the runner setting carries over), minus any
    database URL, plus ``NNGRADE_<SETTING>`` for each keyword (``database_url`` → ``DATABASE_URL``)."""
    env = {k: v for k, v in os.environ.items() if k not in DB_ENV and not k.startswith("NNGRADE_CLIENT")}
    env.pop("NNGRADE_SERVER", None)
    env.pop("NNGRADE_TOKEN", None)
    for name, value in settings.items():
        key = "DATABASE_URL" if name == "database_url" else f"NNGRADE_{name.upper()}"
        env[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return env


# ------------------------------------------------------------------ databases


def _postgres_admin() -> sa.Engine:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        url = DEFAULT_POSTGRES
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 10})


@pytest.fixture(scope="session")
def postgres_server() -> sa.Engine:
    """A connection to the machine's PostgreSQL; failing (never skipping) if it is not there."""
    engine = _postgres_admin()
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # the suite must run against PostgreSQL: fail loudly
        pytest.fail(f"PostgreSQL is unreachable at {engine.url.render_as_string(hide_password=True)}: {exc}")
    yield engine
    engine.dispose()


def new_database(kind: str, tmp_path_factory, request) -> str:
    """The URL of a fresh, empty database of ``kind`` (dropped when the test session ends)."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'nngrade.sqlite3'}"
    admin: sa.Engine = request.getfixturevalue("postgres_server")
    name = f"nngrade_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    request.addfinalizer(drop)
    return make_url(admin.url).set(drivername="postgresql+psycopg", database=name).render_as_string(
        hide_password=False)


BACKENDS = [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def db_url(backend, tmp_path_factory, request) -> str:
    """One throw-away database per backend for the session's shared service."""
    return new_database(backend, tmp_path_factory, request)


@pytest.fixture
def fresh_db_url(backend, tmp_path_factory, request) -> str:
    """A throw-away database of the current backend for one test."""
    return new_database(backend, tmp_path_factory, request)


@pytest.fixture
def db(fresh_db_url):
    """A migrated throw-away database of the current backend, for tests that call the code without HTTP."""
    from service.db import Database
    from service.db.engine import make_engine
    from service.db.migrate import upgrade

    database = Database(make_engine(fresh_db_url), fresh_db_url)
    upgrade(database)
    yield database
    database.dispose()


# ------------------------------------------------------------------ a running service


@dataclass
class Api:
    """An HTTP client of a running service, with the token of one user."""

    base: str
    token: str | None = None
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        self.client = httpx.Client(base_url=self.base, headers=headers, timeout=90)

    def get(self, path: str, **kw) -> httpx.Response:
        return self.client.get(path, **kw)

    def post(self, path: str, **kw) -> httpx.Response:
        return self.client.post(path, **kw)

    def submit(self, exercise: str, path: pathlib.Path | None = None, *, source: str | bytes | None = None,
               filename: str | None = None, key: str | None = None) -> httpx.Response:
        """Multipart upload of a file (or of ``source`` under ``filename``)."""
        data = path.read_bytes() if path is not None else source
        if isinstance(data, str):
            data = data.encode()
        name = filename or (path.name if path is not None else "submission.py")
        headers = {"Idempotency-Key": key} if key else {}
        return self.post("/api/v1/submissions", data={"exercise": exercise}, files={"file": (name, data)},
                         headers=headers)

    def accepted(self, exercise: str, path: pathlib.Path | None = None, **kw) -> int:
        response = self.submit(exercise, path, **kw)
        assert response.status_code == 202, response.text
        return response.json()["id"]

    def wait(self, submission_id: int, timeout: float = 120) -> dict:
        """The submission once its grading ended (done or failed)."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.get(f"/api/v1/submissions/{submission_id}", params={"wait": 20})
            assert response.status_code == 200, response.text
            body = response.json()
            if body["status"] in ("done", "failed"):
                return body
            assert time.monotonic() < deadline, f"submission {submission_id} still {body['status']}"

    def close(self) -> None:
        self.client.close()


class Service:
    """``nngrade serve`` as a subprocess on a free loopback port."""

    def __init__(self, workdir: pathlib.Path, db_url: str, **settings: object):
        self.workdir = workdir
        self.db_url = db_url
        self.port = free_port()
        self.settings = {"data_dir": workdir / "data", "database_url": db_url, "port": self.port,
                         "host": "127.0.0.1", "log_level": "warning", "poll_interval": 0.2, "lease_seconds": 3,
                         **settings}
        if db_url.startswith("sqlite"):
            self.settings.pop("database_url")
            self.settings["data_dir"] = pathlib.Path(make_url(db_url).database).parent
        self.env = base_env(**self.settings)
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self._clients: list[Api] = []

    @property
    def log(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.workdir.glob("serve-*.log")))

    def start(self, *, may_die: bool = False) -> "Service":
        """Start and wait until it answers; ``may_die``: a death during start-up is no error."""
        self.starts += 1
        logfile = open(self.workdir / f"serve-{self.starts}.log", "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "nngrade", "serve"], env=self.env, cwd=self.workdir,
                                     stdout=logfile, stderr=subprocess.STDOUT)
        logfile.close()
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if may_die:
                    return self
                raise AssertionError(f"nngrade serve exited with {self.proc.returncode}:\n{self.log[-4000:]}")
            try:
                if httpx.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"nngrade serve did not answer within {STARTUP_SECONDS} s:\n{self.log[-4000:]}")

    def kill(self, sig: int = signal.SIGKILL) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=30)

    def stop(self) -> None:
        for api in self._clients:
            api.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def api(self, token: str | None = None) -> Api:
        api = Api(self.base, token)
        self._clients.append(api)
        return api

    def token(self, role: str, name: str) -> str:
        """A new token, made in the service's database (as ``nngrade token create`` does)."""
        from service.db import Database
        from service.db.engine import make_engine
        from service.db.migrate import upgrade
        from service.db.tokens import create_token

        db = Database(make_engine(self.db_url), self.db_url)
        try:
            upgrade(db)
            with db.write_session() as session:
                return create_token(session, name=name, role=role)[1]
        finally:
            db.dispose()

    def cli(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run ``nngrade ARGS`` with this service's settings."""
        return subprocess.run([sys.executable, "-m", "nngrade", *args], env={**self.env, **(env or {})},
                              cwd=self.workdir, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def service(db_url, tmp_path_factory):
    """The shared service of a backend (rate limit off, so tests can submit freely)."""
    svc = Service(tmp_path_factory.mktemp("service"), db_url, rate_limit=0).start()
    yield svc
    svc.stop()


@dataclass
class Users:
    instructor: Api
    alice: Api
    bob: Api
    anonymous: Api


@pytest.fixture(scope="session")
def users(service) -> Users:
    return Users(instructor=service.api(service.token("instructor", "prof")),
                 alice=service.api(service.token("student", "alice")),
                 bob=service.api(service.token("student", "bob")),
                 anonymous=service.api())


@pytest.fixture
def start_service(tmp_path, fresh_db_url):
    """``start_service(**settings) -> Service``: a dedicated, started service on a fresh database."""
    started: list[Service] = []

    def _start(**settings: object) -> Service:
        svc = Service(tmp_path / f"svc{len(started)}", fresh_db_url, **settings)
        svc.workdir.mkdir()
        started.append(svc)
        return svc.start()

    yield _start
    for svc in started:
        svc.stop()


# ------------------------------------------------------------------ a course, on a clock the test sets

#: Where a course's clock starts: before any assignment the course tests publish opens.
COURSE_START = datetime(2027, 2, 25, 12, 0, tzinfo=timezone.utc)


class Clock:
    """The instant a service takes as now (``NNGRADE_CLOCK_FILE``): the test sets it, nothing sleeps."""

    def __init__(self, path: pathlib.Path):
        self.path = path

    def set(self, instant: datetime) -> datetime:
        assert instant.tzinfo is not None, "the clock needs an aware instant"
        new = self.path.with_suffix(".new")
        new.write_text(instant.isoformat(), encoding="utf-8")
        new.replace(self.path)  # the service never reads half a timestamp
        return instant


@dataclass
class Course:
    """A started service on a clock of the test's, and its instructor.  :meth:`publish` gives an
    exercise the course's usual dates (Europe/Berlin): :attr:`OPENS`, :attr:`DUE`, :attr:`LATE_UNTIL`."""

    service: Service
    clock: Clock
    instructor: Api

    OPENS = datetime(2027, 3, 1, 8, 0, tzinfo=timezone.utc)  # 2027-03-01 09:00 in Berlin
    DUE = datetime(2027, 3, 10, 22, 59, tzinfo=timezone.utc)  # 2027-03-10 23:59
    LATE_UNTIL = datetime(2027, 3, 13, 22, 59, tzinfo=timezone.utc)  # 2027-03-13 23:59

    def student(self, name: str) -> Api:
        return self.service.api(self.service.token("student", name))

    def publish(self, exercise: str = "dense", **fields: object) -> dict:
        """POST /assignments: 10 % per started day late, at most 50 %, unless ``fields`` say otherwise."""
        body = {"exercise": exercise, "opens_at": "2027-03-01T09:00", "due_at": "2027-03-10T23:59",
                "late_until": "2027-03-13T23:59", "timezone": "Europe/Berlin", "late_policy": "per-day",
                "penalty_percent": 10, "penalty_cap": 50, **fields}
        response = self.instructor.post("/api/v1/assignments", json=body)
        assert response.status_code == 201, response.text
        return response.json()


@pytest.fixture
def course(start_service, tmp_path) -> Course:
    """A dedicated service (rate limit off) on a fresh database of the current backend, its clock at
    :data:`COURSE_START`."""
    clock = Clock(tmp_path / "clock.txt")
    clock.set(COURSE_START)
    svc = start_service(rate_limit=0, clock_file=clock.path)
    return Course(svc, clock, svc.api(svc.token("instructor", "prof")))


# ------------------------------------------------------------------ the scaled-out topology
#
# * ``rabbitmq`` — the machine's RabbitMQ, to stop and start in a test (started again afterwards).
# * ``rabbitmq_vhost`` — a fresh RabbitMQ virtual host for one test (``rabbitmqctl``), deleted
#   afterwards; RabbitMQ unreachable is a failure, never a skip.
# * ``topology`` — ``topology(workers=2, concurrency=1)``: a fresh PostgreSQL database, a
#   ``nngrade serve`` API process and ``nngrade worker`` processes, all on that vhost.

RABBITMQ = ("127.0.0.1", 5672)


def rabbitmqctl(*args: str, timeout: float = 60) -> str:
    done = subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"rabbitmqctl {' '.join(args)} failed: {done.stdout}{done.stderr}")
    return done.stdout


def wait_for_rabbitmq(timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(RABBITMQ, timeout=2):
                return
        except OSError as exc:
            if time.monotonic() > deadline:
                pytest.fail(f"RabbitMQ is unreachable at {RABBITMQ[0]}:{RABBITMQ[1]}: {exc}")
            time.sleep(0.5)


class RabbitMQ:
    """The machine's broker, stopped and started for real (``rabbitmqctl stop_app`` keeps its data)."""

    def stop(self) -> None:
        rabbitmqctl("stop_app")

    def start(self) -> None:
        rabbitmqctl("start_app")
        wait_for_rabbitmq()


@pytest.fixture
def rabbitmq() -> RabbitMQ:
    wait_for_rabbitmq()
    broker = RabbitMQ()
    yield broker
    broker.start()  # whatever the test did, the broker runs afterwards


@pytest.fixture
def rabbitmq_vhost() -> str:
    """The broker URL of a new, empty vhost."""
    wait_for_rabbitmq()
    vhost = f"nngrade-test-{uuid.uuid4().hex[:10]}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    yield f"amqp://guest:guest@{RABBITMQ[0]}:{RABBITMQ[1]}/{vhost}"
    wait_for_rabbitmq()
    rabbitmqctl("delete_vhost", vhost)


class Worker:
    """``nngrade worker`` as a subprocess."""

    def __init__(self, service: Service, index: int, concurrency: int):
        self.service = service
        self.index = index
        self.concurrency = concurrency
        self.logfile = service.workdir / f"worker-{index}.log"
        self.proc: subprocess.Popen | None = None

    @property
    def log(self) -> str:
        return self.logfile.read_text(errors="replace") if self.logfile.exists() else ""

    def start(self) -> "Worker":
        """Start it and wait until it has announced itself in the database (its sandbox pool warm)."""
        from service.db import Database
        from service.db.engine import make_engine
        from service.worker.liveness import alive

        with open(self.logfile, "ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "nngrade", "worker", "--concurrency",
                                          str(self.concurrency)], env=self.service.env, cwd=self.service.workdir,
                                         stdout=out, stderr=subprocess.STDOUT)
        db = Database(make_engine(self.service.db_url), self.service.db_url)
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while not any(w.pid == self.proc.pid for w in alive(db)):
                if self.proc.poll() is not None:
                    raise AssertionError(f"nngrade worker exited with {self.proc.returncode}:\n{self.log[-4000:]}")
                assert time.monotonic() < deadline, f"nngrade worker did not start:\n{self.log[-4000:]}"
                time.sleep(0.1)
        finally:
            db.dispose()
        return self

    def kill(self, sig: int = signal.SIGKILL) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=90)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Topology:
    """The API process and its workers, sharing one PostgreSQL database and one RabbitMQ vhost."""

    def __init__(self, api: Service, workers: list[Worker]):
        self.api = api
        self.workers = workers

    def add_worker(self, concurrency: int = 1) -> Worker:
        worker = Worker(self.api, len(self.workers), concurrency)
        self.workers.append(worker)
        return worker.start()

    @property
    def logs(self) -> str:
        return self.api.log + "".join(f"\n--- worker {w.index}\n{w.log}" for w in self.workers)


@pytest.fixture
def topology(tmp_path_factory, request, rabbitmq_vhost):
    """``topology(workers=2, concurrency=1, **settings) -> Topology`` on a fresh PostgreSQL database."""
    made: list[Topology] = []

    def _make(*, workers: int = 2, concurrency: int = 1, **settings: object) -> Topology:
        url = new_database("postgres", tmp_path_factory, request)
        workdir = pathlib.Path(tmp_path_factory.mktemp("topology"))
        settings = {"rate_limit": 0, "sweep_interval": 0.5, "heartbeat_interval": 0.5, "log_level": "info", **settings}
        api = Service(workdir, url, broker_url=rabbitmq_vhost, **settings)
        top = Topology(api, [])
        made.append(top)
        api.start()
        for _ in range(workers):
            top.add_worker(concurrency)
        return top

    yield _make
    for top in made:
        for worker in top.workers:
            worker.stop()
        top.api.stop()
