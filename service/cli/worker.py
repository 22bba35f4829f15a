"""``nngrade worker``: a grading worker for the Celery engine (``NNGRADE_BROKER_URL``)."""

from __future__ import annotations

import logging
import os
from typing import Annotated, Optional

import typer

from . import app
from .server import settings_with


@app.command()
def worker(
        concurrency: Annotated[Optional[int], typer.Option(
            "--concurrency", "-c", min=1, max=256,
            help="Submissions graded at the same time; default: one per core [NNGRADE_WORKERS].")] = None,
        check: Annotated[bool, typer.Option(
            "--check", help="Exit 0 if a worker on this host is alive (a container's health check), else 1.")]
        = False,
) -> None:
    """Grade submissions sent through the broker, in this process's own sandbox pool.

    Needs NNGRADE_BROKER_URL (RabbitMQ amqp://…, or redis://…) and the API's database
    (DATABASE_URL, PostgreSQL when workers run on other machines).  SIGTERM finishes the
    gradings in progress, then stops; a worker killed outright has its gradings taken over by
    another worker once their lease runs out.
    """
    from service.worker.celery_app import run_worker

    settings = settings_with()
    if check:
        raise typer.Exit(0 if _alive_here(settings) else 1)
    if not settings.broker_url:
        typer.echo("nngrade worker needs a broker: set NNGRADE_BROKER_URL (e.g. amqp://guest:guest@127.0.0.1:5672//). "
                   "Without one, `nngrade serve` grades in its own process.", err=True)
        raise typer.Exit(2)
    n = concurrency or settings.workers or (os.cpu_count() or 1)
    # One warm sandbox per grading thread, at least two, unless set explicitly.
    settings = settings.model_copy(update={"workers": n, "sandbox_pool_size": settings.sandbox_pool_size or max(2, n)})
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from service.db.engine import masked_url

    typer.echo(f"nngrade worker: {n} grading threads, broker {masked_url(settings.broker_url)}, "
               f"queue {settings.celery_queue}, database {masked_url(settings.sqlalchemy_url)}")
    run_worker(settings, concurrency=n, loglevel=settings.log_level.upper())


def _alive_here(settings) -> bool:
    import socket

    from service.db import Database
    from service.worker.liveness import alive

    db = Database.from_settings(settings)
    try:
        return any(w.hostname == socket.gethostname()[:200] for w in alive(db))
    finally:
        db.dispose()
