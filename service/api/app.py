"""The FastAPI application: :func:`create_app` wires the database, the grading workers and the routers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os

import anyio.to_thread
from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

import nngrade
from service import dashboard
from service.config import Settings, get_settings
from service.db import Database, lock
from service.db.engine import masked_url
from service.db.migrate import upgrade
from service.worker import GradingContext, WorkerPool, queue, recover_interrupted
from service.worker.dispatch import CeleryDispatcher, LocalDispatcher, Sweeper

from . import errors
from .deps import ServiceState
from .limits import BodyLimit, request_limit
from .routers import account, exercises, gradebook, health, regrades, submissions
from .routers import assignments, extensions, my_assignments, roster
from .waiting import CompletionHub

log = logging.getLogger("nngrade.service")

API = "/api/v1"
DESCRIPTION = """\
Submit NumPy exercises and get scored reports that name your mistakes.

Every `/api/v1` endpoint needs `Authorization: Bearer <token>` (tokens come from
`nngrade token create`).  Students submit and read their own submissions; instructors read
everything, regrade and export the gradebook.  Every error is JSON with a stable `code`.
"""

#: Allocations between two young garbage collections (CPython's default is 700): see :func:`_settle`.
YOUNG_COLLECTION_EVERY = 5_000
#: How long shutdown waits for gradings in progress before putting them back in the queue.
SHUTDOWN_GRACE = 10.0


def worker_count(settings: Settings) -> int:
    return settings.workers or (os.cpu_count() or 1)


def _start(state: ServiceState) -> None:
    """Lock the SQLite data directory, migrate, then either connect the broker and sweep (Celery mode),
    or open the runner, take back the claims of dead holders and start the workers (blocking)."""
    settings = state.settings
    if state.db.sqlite_dir is not None:  # one process per SQLite file: then every claim in it is stale
        lock.hold(state.db.sqlite_dir)
        state.context.sole_holder = True
    if settings.auto_migrate:
        upgrade(state.db)
    if settings.broker_url:
        _start_broker(state)
        return
    if not settings.grade_in_process:
        return
    try:
        runner = state.context.get_runner()
    except Exception as exc:  # no runner at all: serve and report, but grade nothing
        state.runner_error = f"{type(exc).__name__}: {exc}"
        log.error("no grading runner; submissions stay queued: %s", state.runner_error)
        return
    start = getattr(runner, "start", None)  # warm the sandbox pool now, not on the first submission
    if callable(start):
        try:
            start()
        except Exception as exc:  # workers still run: they back off while the runner cannot run code
            state.context.unavailable = f"{type(exc).__name__}: {exc}"
            log.error("the sandbox pool did not start: %s", state.context.unavailable)
    state.pool = WorkerPool(state.context, worker_count(settings), poll_interval=settings.poll_interval)
    state.dispatcher = LocalDispatcher(state.pool.wake)
    requeued, failed = state.pool.start()
    log.info("grading with %d workers (runner %s, isolation %s); recovered %d, failed as crashed %d",
             state.pool.size, settings.runner, ", ".join(state.context.isolation) or "?", len(requeued), len(failed))


def _settle(settings: Settings) -> None:
    """Once started (on the event loop): bound the threads that run requests' blocking work, and
    take what start-up made (modules, the app, the graders) out of the garbage collector's view.

    Both keep the event loop quick under load.  Every runnable Python thread makes the loop wait
    longer for the interpreter lock, and forty (anyio's default) gain nothing on a few cores.  A
    full collection stops every thread while it walks every tracked object: start-up leaves those
    by the hundred thousand, alive for the life of the process (frozen, they are not walked), and
    under load every request in flight at a young collection is promoted towards the old
    generation.  Young collections every 5,000 allocations instead of 700 promote far fewer
    (measured with bench/bench_healthz.py: no full collection during the run instead of one every
    few seconds, each stopping the loop 100–230 ms).  Much rarer ones cost more than they save:
    at 20,000 a young collection walks so many objects that it stops the loop 100–300 ms itself
    in the deadline spike (bench/load.py --spike).
    """
    anyio.to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, *gc.get_threshold()[1:])


def _start_broker(state: ServiceState) -> None:
    """Celery mode: grading happens in ``nngrade worker`` processes; this process sends them the work."""
    from service.worker.celery_app import make_celery

    settings = state.settings
    # Workers in other processes hold claims here: only an expired lease makes one stale.
    state.context.sole_holder = False
    state.dispatcher = CeleryDispatcher(make_celery(settings), state.db)

    def swept(error: str | None) -> None:
        state.sweep_error = error

    state.sweeper = Sweeper(state.db, state.dispatcher, interval=settings.sweep_interval,
                            redispatch_after=settings.redispatch_after,
                            recover=lambda: recover_interrupted(state.context), on_error=swept)
    state.sweeper.start()
    log.info("grading through the broker %s (queue %s)", masked_url(settings.broker_url), settings.celery_queue)


def _stop(state: ServiceState) -> None:
    if state.sweeper is not None:
        state.sweeper.stop()
    state.dispatcher.close()
    if state.pool is not None:
        released = state.pool.stop(SHUTDOWN_GRACE)
        if released:
            log.warning("shutdown: put unfinished submissions %s back in the queue", released)
    state.db.dispose()
    if state.db.sqlite_dir is not None:
        lock.release(state.db.sqlite_dir)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service.  Starting it (ASGI lifespan) migrates the database when ``auto_migrate``, recovers
    interrupted gradings and starts ``workers`` grading threads; stopping it hands unfinished gradings
    back to the queue."""
    settings = settings or get_settings()
    db = Database.from_settings(settings)
    state = ServiceState(settings=settings, db=db, context=GradingContext(db, settings),
                         hub=CompletionHub(settings.long_poll_per_user, settings.poll_interval))
    state.context.on_finished = state.hub.notify

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        log.info("database %s", masked_url(db.url))
        await run_in_threadpool(_start, state)
        _settle(settings)
        state.hub.bind(asyncio.get_running_loop(), lambda ids: queue.finished_among(db, ids))
        try:
            yield
        finally:
            await state.hub.close()
            await run_in_threadpool(_stop, state)

    app = FastAPI(title="nngrade", version=nngrade.__version__, description=DESCRIPTION, lifespan=lifespan,
                  openapi_url=f"{API}/openapi.json", docs_url=None, redoc_url=None)  # docs: the dashboard's
    app.state.service = state
    errors.install(app)
    for module in (exercises, submissions, regrades, gradebook, account):
        app.include_router(module.router, prefix=API)
    for module in (assignments, extensions, roster, my_assignments):  # the course (service.course)
        app.include_router(module.router, prefix=API)
    app.include_router(health.router)
    dashboard.mount(app, api_prefix=API)
    app.add_middleware(BodyLimit, max_bytes=request_limit(settings), file_bytes=settings.max_upload_bytes,
                       seconds=settings.body_timeout)
    return app
