"""Dependencies of the routes: the service state, a database session, the current user."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from service.config import Settings
from service.db import Database
from service.db.models import utcnow
from service.db.tokens import authenticate
from service.worker import GradingContext, WorkerPool
from service.worker.dispatch import Dispatcher, LocalDispatcher, Sweeper

from .errors import ApiError
from .waiting import CompletionHub


@dataclass
class ServiceState:
    """What the running service holds; one per app, at ``app.state.service``."""

    settings: Settings
    db: Database
    context: GradingContext
    hub: CompletionHub = field(default_factory=CompletionHub)
    pool: WorkerPool | None = None
    runner_error: str | None = None
    #: Says that submissions wait in the queue: wakes ``pool``, or sends Celery tasks.
    dispatcher: Dispatcher = field(default_factory=LocalDispatcher)
    sweeper: Sweeper | None = None
    #: Why the last sweep failed (None once a sweep succeeds).
    sweep_error: str | None = None
    #: Celery mode: the sandbox layers every live worker has (as /readyz last saw them).
    worker_isolation: list[str] = field(default_factory=list)

    @property
    def runner(self):
        return self.context.runner

    def now(self) -> datetime:
        """The service's one clock for the course's decisions and the time a submission is made: the
        system's, or the instant ``settings.clock_file`` holds (tests move it; nothing sleeps)."""
        return clock_reading(self.settings.clock_file)

    def enqueued(self, submission_ids: list[int]) -> None:
        """These submissions were committed to the queue: tell the graders (wake this process's workers,
        or send Celery tasks).  Never raises for a broker that is away: the sweeper sends them later."""
        if submission_ids:
            self.dispatcher.dispatch(submission_ids)


def clock_reading(path: Path | None) -> datetime:
    """Now: the aware ISO 8601 instant in ``path`` (read at every call), else the system clock."""
    try:
        text = path.read_text(encoding="utf-8").strip() if path is not None else ""
    except FileNotFoundError:
        text = ""
    if not text:
        return utcnow()
    instant = datetime.fromisoformat(text)
    if instant.tzinfo is None:
        raise ValueError(f"{path}: {text!r} has no UTC offset; write e.g. 2026-12-10T22:59:00+00:00")
    return instant.astimezone(timezone.utc)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    id: int
    name: str
    role: str

    @property
    def instructor(self) -> bool:
        return self.role == "instructor"


async def get_state(request: Request) -> ServiceState:
    # async: FastAPI runs a plain ``def`` dependency in the thread pool, and /healthz would then
    # queue behind every request waiting there for a thread (a thousand long-polls).
    return request.app.state.service


State = Annotated[ServiceState, Depends(get_state)]


def db_session(state: State) -> Iterator[Session]:
    """A session for the request's reads (writes use ``state.db.write_session()``)."""
    with state.db.session() as session:
        yield session


DB = Annotated[Session, Depends(db_session)]

bearer = HTTPBearer(auto_error=False, description="A token from `nngrade token create`.")


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def principal(state: ServiceState, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The token's user; 401 without a valid token.  Blocking: call it off the event loop."""
    if credentials is None:
        raise ApiError(401, "missing-token", "This needs a bearer token: `Authorization: Bearer <token>`.",
                       headers={"WWW-Authenticate": "Bearer"})
    with state.db.session() as session:
        user = authenticate(session, credentials.credentials)
        if user is None:
            raise ApiError(401, "invalid-token", "The token is unknown or revoked.",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return Principal(user.id, user.name, user.role)


def current_user(state: State, credentials: Credentials) -> Principal:
    """The token's user (see :func:`principal`).  Holds no session open afterwards (long-polls)."""
    return principal(state, credentials)


User = Annotated[Principal, Depends(current_user)]


def instructor(user: User) -> Principal:
    if not user.instructor:
        raise ApiError(403, "instructor-only", "Only instructors may do this.")
    return user


Instructor = Annotated[Principal, Depends(instructor)]
