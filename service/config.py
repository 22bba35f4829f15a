"""Settings from the environment: one pydantic-settings class for the whole service."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from graders.framework.proxy import Limits


class Settings(BaseSettings):
    """Every setting, read from ``NNGRADE_*`` variables (``DATABASE_URL`` too)."""

    model_config = SettingsConfigDict(env_prefix="NNGRADE_", extra="ignore")

    data_dir: Path = Field(Path("nngrade-data"), description="Where the embedded database and uploads live.")
    database_url: str | None = Field(
        None, validation_alias=AliasChoices("DATABASE_URL", "NNGRADE_DATABASE_URL"),
        description="SQLAlchemy URL; default: SQLite in data_dir (WAL mode).")
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(0, ge=0, description="Grading workers in the service process; 0 = one per core.")

    # sandbox
    runner: Literal["sandbox", "inprocess"] = Field(
        "sandbox", description="'inprocess' runs student code in the grader's process: only for trusted code.")
    require_isolation: bool = Field(False, description="Refuse to grade without every isolation layer.")
    sandbox_pool_size: int = Field(0, ge=0, description="Warm sandboxes kept ready; 0 = one per core, at least 2.")
    sandbox_disable: str = Field("", description="Comma list of layers to turn off (bwrap, userns, seccomp): "
                                                 "for testing the degraded mode.")
    max_cpu_seconds: float = Field(60.0, gt=0, description="Service-wide cap on an exercise's CPU budget.")
    max_wall_seconds: float = Field(120.0, gt=0)
    max_memory_mb: int = Field(2048, gt=0)
    max_output_kb: int = Field(256, gt=0)

    # service
    max_upload_bytes: int = Field(1024 * 1024, gt=0, description="Largest accepted submission file, in bytes "
                                                                 "(as uploaded).")
    max_parse_seconds: float = Field(5.0, gt=0, description="Time budget of reading one uploaded file (a "
                                                            "notebook's cells); longer is refused as too complex.")
    rate_limit: int = Field(30, ge=0, description="Submissions per student per minute; 0 turns it off.")
    queue_max: int = Field(10000, ge=1, description="Queued submissions beyond which new ones get 503.")
    long_poll_max: float = Field(60.0, ge=0, description="Longest ?wait= a client may ask for, in seconds.")
    long_poll_per_user: int = Field(8, ge=1, description="Long-polls (?wait=) one user may hold open at once; "
                                                         "more get 429 too-many-waits.")
    request_threads: int = Field(8, ge=1, description="Threads that run the requests' database work; more make "
                                                       "every Python thread (the event loop's too) wait longer "
                                                       "for the interpreter lock under load.")
    header_timeout: float = Field(10.0, gt=0, description="Seconds a connection may take to send a request's "
                                                          "headers before it is closed.")
    body_timeout: float = Field(60.0, gt=0, description="Seconds a request may take to send its whole body "
                                                        "(408 request-timeout after).")
    metrics_token: str | None = Field(None, description="Bearer token /metrics asks of clients that are not on "
                                                        "loopback; unset, /metrics answers loopback clients only.")
    grade_in_process: bool = Field(True, description="Run grading workers in the service process; false makes an "
                                                     "API-only process whose queue another process grades.")
    max_attempts: int = Field(2, ge=1, description="A submission whose grading fails this many times is failed: "
                                                   "the grader raised, or (in-process runner only) the grading "
                                                   "process died. Service deaths under a sandbox and storage "
                                                   "errors never count.")
    lease_seconds: float = Field(30.0, ge=1, description="How long a claim on a submission lasts without renewal; "
                                                         "its holder renews it every third of that while it grades, "
                                                         "and only an expired claim is taken back.")
    poll_interval: float = Field(1.0, gt=0, description="How often idle workers look at the queue, in seconds "
                                                        "(a submission to this process wakes them at once).")
    # scale-out
    broker_url: str | None = Field(
        None, description="Celery broker (RabbitMQ amqp://…, or redis://…). Set, the API sends a grading task per "
                          "submission to `nngrade worker` processes and grades nothing itself; unset, the embedded "
                          "default grades in the service process.")
    celery_queue: str = Field("nngrade", min_length=1, max_length=200, description="The broker queue of grading "
                                                                                   "tasks.")
    sweep_interval: float = Field(5.0, gt=0, description="How often the API sends again what the broker never "
                                                         "took and requeues gradings whose worker died, in seconds.")
    redispatch_after: float = Field(300.0, gt=0, description="A queued submission dispatched this long ago without "
                                                             "being claimed is dispatched again, in seconds.")
    heartbeat_interval: float = Field(5.0, gt=0, description="How often a worker process says it is alive, in "
                                                             "seconds.")
    auto_migrate: bool = Field(True, description="Apply the database migrations when the service starts.")
    session_secret: SecretStr | None = Field(None, description="Key that signs the dashboard's session cookies; "
                                                               "unset: a random key, so sessions end at restart.")
    session_hours: float = Field(8.0, gt=0, description="How long a dashboard login lasts, in hours.")
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    clock_file: Path | None = Field(None, description="For tests: a file holding the ISO 8601 instant (with its "
                                                      "offset) the service takes as now for the course's dates and "
                                                      "the time of each submission, read at every use; unset or "
                                                      "absent: the system clock.")

    @property
    def limit_caps(self) -> Limits:
        return Limits(cpu_seconds=self.max_cpu_seconds, wall_seconds=self.max_wall_seconds,
                      call_seconds=self.max_wall_seconds, memory_mb=self.max_memory_mb,
                      output_kb=self.max_output_kb, processes=64)

    @property
    def grades_here(self) -> bool:
        """Whether the service process runs grading workers itself (never when a broker is set)."""
        return self.grade_in_process and self.broker_url is None

    @property
    def disabled_layers(self) -> frozenset[str]:
        return frozenset(x.strip() for x in self.sandbox_disable.split(",") if x.strip())

    @property
    def pool_size(self) -> int:
        return self.sandbox_pool_size or max(2, os.cpu_count() or 1)

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'nngrade.sqlite3').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
