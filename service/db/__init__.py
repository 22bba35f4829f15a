"""The service's database: SQLAlchemy 2 models, engine and sessions, Alembic migrations.

SQLite in WAL mode in ``NNGRADE_DATA_DIR`` by default; PostgreSQL with
``DATABASE_URL=postgresql+psycopg://…``.  The same code serves both.
"""

from .engine import Database, masked_url
from .models import (DONE, FAILED, QUEUED, ROLES, RUNNING, STATUSES, GradingReport, RegradeBatch, Submission, Token,
                     User, WorkerProcess)

__all__ = ["DONE", "FAILED", "QUEUED", "ROLES", "RUNNING", "STATUSES", "Database", "GradingReport", "RegradeBatch",
           "Submission", "Token", "User", "WorkerProcess", "masked_url"]
