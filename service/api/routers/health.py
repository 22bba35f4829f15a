"""``/healthz`` (alive, answers without touching the database), ``/readyz`` (can grade), ``/metrics``."""

from __future__ import annotations

import ipaddress
import json
import logging
import secrets

from fastapi import APIRouter, Request, Response

import exercises
import nngrade
from service.db.migrate import is_current
from service.grading import references_available
from service.sandbox.pool import FULL_ISOLATION
from service.sandbox.session import ordered
from service.worker import queue

from ..deps import ServiceState, State
from ..errors import ApiError
from ..schemas import Check, Health, Ready

log = logging.getLogger("nngrade.api")
router = APIRouter(tags=["health"])


def isolation(state: ServiceState) -> list[str]:
    """This process's sandbox layers, or in Celery mode those every worker last reported."""
    if state.settings.broker_url:
        return list(ordered(state.worker_isolation))
    return [str(x) for x in getattr(state.runner, "isolation", ()) or ()]


def runner_check(state: ServiceState) -> Check:
    """The sandbox pool's readiness, from the runner's optional ``ready()`` / ``status()``."""
    if state.runner_error:
        return Check(ok=False, detail=state.runner_error)
    runner = state.runner
    if runner is None:
        return Check(ok=False, detail="the runner is starting")
    ready = getattr(runner, "ready", None)
    status = getattr(runner, "status", None)
    try:
        ok = bool(ready()) if callable(ready) else True
        detail = status() if callable(status) else f"{type(runner).__name__}"
    except Exception as exc:
        return Check(ok=False, detail=f"the runner's status failed: {type(exc).__name__}: {exc}")
    detail = detail if isinstance(detail, str) else json.dumps(detail, default=str)
    refused = state.context.unavailable
    return Check(ok=ok and refused is None, detail=f"{refused}; {detail}" if refused else detail)


def broker_checks(state: ServiceState) -> dict[str, Check]:
    """Celery mode: the broker takes tasks, the sweeper runs, and some worker process is alive."""
    from service.worker import liveness

    checks: dict[str, Check] = {}
    error = getattr(state.dispatcher, "broker_error", None) or broker_unreachable(state)
    checks["broker"] = Check(ok=error is None, detail=error or state.settings.celery_queue)
    if state.sweep_error:
        checks["sweeper"] = Check(ok=False, detail=state.sweep_error)
    try:
        workers = liveness.alive(state.db)
    except Exception as exc:
        return {**checks, "workers": Check(ok=False, detail=f"unknown: {type(exc).__name__}")}
    threads = sum(w.concurrency for w in workers)
    state.worker_isolation = sorted(set.intersection(*(set(w.isolation) for w in workers))) if workers else []
    missing = sorted({layer for w in workers for layer in FULL_ISOLATION - set(w.isolation)})
    detail = f"{len(workers)} worker process(es), {threads} grading thread(s)"
    if missing:
        detail += f"; some grade without {', '.join(missing)}"
    checks["workers"] = Check(ok=bool(workers) and not (missing and state.settings.require_isolation),
                              detail=detail if workers else "no worker process is alive: start `nngrade worker`")
    return checks


def broker_unreachable(state: ServiceState) -> str | None:
    """Why the broker does not answer a connection now, or None."""
    app = getattr(state.dispatcher, "app", None)
    if app is None:
        return "no broker connection"
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}"
    return None


def database_check(state: ServiceState) -> Check:
    name = state.db.engine.dialect.name
    try:
        state.db.ping()
    except Exception as exc:
        return Check(ok=False, detail=f"{name}: unreachable: {type(exc).__name__}")
    try:
        if not is_current(state.db):
            return Check(ok=False, detail=f"{name}: the schema is not migrated (run `nngrade db upgrade`)")
        state.db.probe_write()
    except Exception as exc:
        reason = str(getattr(exc, "orig", exc)).splitlines()[0][:200] if str(exc) else ""
        return Check(ok=False, detail=f"{name}: cannot write: {type(exc).__name__}: {reason}")
    return Check(ok=True, detail=name)


@router.get("/healthz", response_model=Health, summary="Alive")
async def healthz(state: State) -> Health:
    return Health(status="ok", version=nngrade.__version__, runner=state.settings.runner, isolation=isolation(state))


@router.get("/readyz", response_model=Ready, summary="Ready to grade", responses={503: {"model": Ready}})
def readyz(state: State, response: Response) -> Ready:
    """The database is reachable, migrated and takes writes, the sandbox pool is ready, workers run,
    references are installed; 503 with the same body otherwise."""
    checks: dict[str, Check] = {}
    checks["database"] = database_check(state)
    if state.settings.broker_url:
        checks.update(broker_checks(state))
    elif state.settings.grade_in_process:
        checks["sandbox"] = runner_check(state)
        if state.pool is not None:
            alive = state.pool.alive
            checks["workers"] = Check(ok=alive == state.pool.size, detail=f"{alive}/{state.pool.size} alive, "
                                                                           f"{state.pool.busy} grading")
    else:
        checks["workers"] = Check(ok=True, detail="no grading in this process (grade_in_process is off)")
    missing = [e for e in exercises.ids() if not references_available(e)]
    checks["references"] = Check(ok=not missing, detail=f"missing for {', '.join(missing)}" if missing else "all")
    ready = all(c.ok for c in checks.values())
    response.status_code = 200 if ready else 503
    return Ready(ready=ready, checks=checks, isolation=isolation(state))


def broker_gauges(state: ServiceState) -> list[tuple]:
    from service.worker import liveness

    up = getattr(state.dispatcher, "broker_error", None) is None and broker_unreachable(state) is None
    gauges = [("nngrade_broker_up", "1 if the broker took the last task and answers a connection.", {}, int(up))]
    try:
        workers = liveness.alive(state.db)
    except Exception:
        return gauges
    gauges.append(("nngrade_worker_processes", "nngrade worker processes alive.", {}, len(workers)))
    gauges.append(("nngrade_worker_threads", "Grading threads of the worker processes alive.", {},
                   sum(w.concurrency for w in workers)))
    return gauges


def metrics_allowed(*, client_host: str, authorization: str, token: str | None) -> None:
    """Decide who reads /metrics: a loopback client freely, any other only with
    ``Authorization: Bearer <token>`` (``metrics_token``), none when no token is set.

    Raises
    ------
    ApiError
        403 ``metrics-loopback-only`` (not loopback, no token set), 401 ``invalid-metrics-token``.
    """
    try:
        if ipaddress.ip_address(client_host).is_loopback:
            return
    except ValueError:  # no address (a Unix socket, a test client): not loopback
        pass
    if not token:
        raise ApiError(403, "metrics-loopback-only", "/metrics answers loopback clients only; set "
                       "NNGRADE_METRICS_TOKEN to let a scraper elsewhere read it with that bearer token.")
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(given.strip().encode(), token.encode()):
        raise ApiError(401, "invalid-metrics-token", "/metrics needs `Authorization: Bearer <NNGRADE_METRICS_TOKEN>` "
                       "from this address.", headers={"WWW-Authenticate": "Bearer"})


@router.get("/metrics", response_class=Response, summary="Prometheus metrics",
            responses={200: {"content": {"text/plain": {}}}, 401: {"description": "Wrong metrics token"},
                       403: {"description": "Not loopback, and no metrics token set"}})
def metrics(state: State, request: Request) -> Response:
    metrics_allowed(client_host=request.client.host if request.client else "",
                    authorization=request.headers.get("authorization", ""), token=state.settings.metrics_token)
    gauges = []
    try:
        depth = queue.depth(state.db)
        gauges.append(("nngrade_queue_depth", "Submissions waiting to be graded.", {}, depth["queued"]))
        for status, count in depth.items():
            gauges.append(("nngrade_submissions", "Submissions by state (queued is the queue depth).",
                           {"status": status}, count))
        oldest = queue.oldest_queued_seconds(state.db)
        gauges.append(("nngrade_oldest_queued_seconds", "Age of the oldest queued submission (0: none).", {},
                       oldest))
        gauges.append(("nngrade_database_up", "1 if the database answered this scrape.", {}, 1))
    except Exception as exc:
        log.warning("metrics: the database did not answer: %s", type(exc).__name__)
        gauges.append(("nngrade_database_up", "1 if the database answered this scrape.", {}, 0))
    if state.pool is not None:
        gauges.append(("nngrade_workers", "Grading workers of this process.", {"state": "alive"}, state.pool.alive))
        gauges.append(("nngrade_workers", "Grading workers of this process.", {"state": "busy"}, state.pool.busy))
    gauges.append(("nngrade_long_polls", "Requests of this process waiting for a report (?wait=).", {},
                   state.hub.waiting))
    if state.settings.broker_url:
        gauges += broker_gauges(state)
    else:
        runner = runner_check(state)
        gauges.append(("nngrade_sandbox_ready", "1 if the sandbox pool is ready.", {}, int(runner.ok)))
    return Response(state.context.metrics.render(gauges), media_type="text/plain; version=0.0.4; charset=utf-8")
