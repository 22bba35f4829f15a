"""Grading in the background: the database-backed queue and the in-process workers.

* :mod:`.queue` — claiming, storing reports, recovery; all state lives in the database.
* :mod:`.tasks` — :func:`grade_submission`, the unit of work (also callable from Celery).
* :mod:`.pool` — worker threads of the service process.
* :mod:`.metrics` — the Prometheus metrics of this process.
"""

from .metrics import Metrics
from .pool import WorkerPool
from .tasks import GradingContext, default_context, failure_report, grade_submission, recover_interrupted

__all__ = ["GradingContext", "Metrics", "WorkerPool", "default_context", "failure_report", "grade_submission",
           "recover_interrupted"]
