"""The Celery engine: grading workers on any number of machines, one task per submission.

With ``NNGRADE_BROKER_URL`` set (RabbitMQ ``amqp://…``; Redis works too) the API commits a
submission, then sends the task ``nngrade.grade`` with its id; ``nngrade worker`` runs a
Celery worker whose threads claim the submission in the shared database, grade it in this
process's own sandbox pool through :func:`tasks.grade_submission` (the one grading path, as
in the embedded default) and store the report.

Delivery: late acknowledgement, a prefetch of one and reject-on-worker-lost, so a task whose
worker dies is redelivered.  The database decides what is done: the task only claims a
*queued* submission, so a redelivered or duplicated task for a submission already graded
does nothing, and one whose grading is still held by a live lease waits for it to end or
expire.  Messages carry an integer id, serialized as JSON; nothing is pickled.
"""

from __future__ import annotations

import logging
import os
import threading

from celery import Celery
from celery.signals import worker_ready, worker_shutdown

from service.config import Settings

log = logging.getLogger("nngrade.celery")

TASK = "nngrade.grade"
#: How long a publish may wait for a broker that does not answer before the submission is left
#: to the sweeper (seconds); the API answers its 202 either way.
PUBLISH_TIMEOUT = 2.0
#: Seconds before a task whose submission went back to the queue looks again.
RETRY_LATER = 5.0


def make_celery(settings: Settings) -> Celery:
    """A Celery application for these settings (the API's and the worker's are the same)."""
    app = Celery("nngrade", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_default_queue=settings.celery_queue,
        task_create_missing_queues=True,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=PUBLISH_TIMEOUT,
        broker_heartbeat=10,
        task_publish_retry=True,
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0.1, "interval_step": 0.5,
                                   "interval_max": 0.5},
        # RabbitMQ confirms each publish, so a 202 is never followed by a task the broker dropped.
        broker_transport_options={"confirm_publish": True},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        worker_enable_remote_control=True,
    )

    @app.task(name=TASK, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
    def grade(task, submission_id: int) -> str | None:
        context = worker_context(settings)
        status, retry_in = grade_claimed(int(submission_id), context)
        if retry_in is not None:  # another worker's live lease holds it: look again when it would expire
            raise task.retry(countdown=retry_in)
        return status

    return app


def send_grading(app: Celery, submission_id: int) -> None:
    """Publish the grading task of one submission (raises if the broker does not take it)."""
    app.send_task(TASK, args=[int(submission_id)], retry=True)


def grade_claimed(submission_id: int, context) -> tuple[str | None, float | None]:
    """Claim and grade ``submission_id`` if it is queued.

    Returns ``(status, retry_in)``: the status after grading (None when there was nothing to do),
    and the seconds after which to look again when another claim's lease still holds it.
    """
    from . import queue
    from service.db import QUEUED

    from .tasks import grade_submission

    status = grade_submission(submission_id, context=context)
    if status == QUEUED:  # handed back (no sandbox to run it in now, or a retry after an error)
        return status, RETRY_LATER
    if status is not None:
        return status, None
    remaining = queue.lease_remaining(context.db, submission_id)
    # Another claim holds it: when that lease would run out, the sweeper may have requeued it.
    return None, None if remaining is None else remaining + 1.0


# ------------------------------------------------------------------ the worker process

_context = None
_context_lock = threading.Lock()
_liveness = None


def worker_context(settings: Settings):
    """This worker process's grading context: its database engine and its sandbox pool."""
    global _context
    with _context_lock:
        if _context is None:
            from service.db import Database

            from .tasks import GradingContext

            _context = GradingContext(Database.from_settings(settings), settings)
        return _context


def _on_ready(settings: Settings, concurrency: int) -> None:
    """Warm the sandbox pool before the first task and start announcing this worker."""
    global _liveness
    from .liveness import Liveness

    context = worker_context(settings)
    runner = context.get_runner()
    start = getattr(runner, "start", None)
    if callable(start):
        try:
            start()
        except Exception as exc:  # tasks still run: grade_submission leaves work queued and says why
            context.unavailable = f"{type(exc).__name__}: {exc}"
            log.error("the sandbox pool did not start: %s", context.unavailable)
    _liveness = Liveness(context.db, concurrency=concurrency, isolation=context.isolation,
                         interval=min(settings.heartbeat_interval, settings.lease_seconds / 3), lease=context.lease)
    _liveness.start()


def _on_shutdown() -> None:
    if _liveness is not None:
        _liveness.stop()
    if _context is not None:
        runner = _context.runner
        close = getattr(runner, "close", None)
        if callable(close):
            close()


def run_worker(settings: Settings, *, concurrency: int, loglevel: str = "INFO") -> None:
    """Run a Celery worker in this process until it is told to stop (SIGTERM: warm shutdown,
    finishing the gradings in progress)."""
    app = make_celery(settings)
    worker_ready.connect(lambda **_: _on_ready(settings, concurrency), weak=False)
    worker_shutdown.connect(lambda **_: _on_shutdown(), weak=False)
    # Threads, not forked children: the sandbox pool (a zygote and its warm sandboxes) belongs to
    # one process, and grading threads wait on sandbox sockets, not on the GIL.
    # A node name of its own: several workers on one host must not share Celery's control queue.
    app.worker_main(argv=["worker", f"--concurrency={concurrency}", "--pool=threads", f"--loglevel={loglevel}",
                          f"--hostname=nngrade-{os.getpid()}@%h",
                          "--without-gossip", "--without-mingle", f"--queues={settings.celery_queue}"])
