"""The dashboard's reads, aggregated in the database.

Every query returns aggregates (one row per student, per code or per case), never one row per
report, so a page costs the same few queries with 20,000 submissions as with 20.  The JSON
columns (a report's ``diagnoses``, its ``tests``) are unnested by the database itself: SQLite's
``json_each``, PostgreSQL's ``json_array_elements``.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, func, literal_column, select, text
from sqlalchemy.orm import Session

import exercises
from graders.framework import codes as registry
from service.db import QUEUED, RUNNING, GradingReport, Submission, User

#: Students shown behind each diagnosis code on the exercise page.
EXAMPLES_PER_CODE = 8


def _json_sql(session: Session) -> dict[str, str]:
    """SQL fragments that unnest the JSON columns, for this session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return {"codes": "json_array_elements_text(cur.diagnoses) AS j(value)", "code": "j.value",
                "tests": "json_array_elements(cur.report -> 'tests') AS t(value)",
                "name": "t.value ->> 'name'", "outcome": "t.value ->> 'outcome'"}
    return {"codes": "json_each(cur.diagnoses) AS j", "code": "j.value",
            "tests": "json_each(cur.report, '$.tests') AS t",
            "name": "json_extract(t.value, '$.name')", "outcome": "json_extract(t.value, '$.outcome')"}


#: Every graded attempt of the students at :ex with its current report; ``rn`` = 1 is a student's latest.
_CURRENT = """
WITH cur AS (
    SELECT s.id AS sid, s.user_id AS uid, r.score AS score, r.max_score AS max_score,
           r.diagnoses AS diagnoses, r.report AS report,
           ROW_NUMBER() OVER (PARTITION BY s.user_id ORDER BY s.id DESC) AS rn
    FROM submissions s
    JOIN reports r ON r.submission_id = s.id AND r.is_current
    JOIN users u ON u.id = s.user_id AND u.role = 'student'
    WHERE s.exercise = :ex
)
"""


# ------------------------------------------------------------------ the overview


def student_ids(session: Session) -> dict[str, int]:
    return dict(session.execute(select(User.name, User.id).where(User.role == "student")).all())


@dataclass
class Activity:
    """The overview's counters."""

    submitted_today: int
    queued: int
    running: int
    graded_last_hour: int
    latency_p50: float | None  # seconds from upload to report, over the last hour
    latency_p95: float | None


def queue(session: Session) -> tuple[int, int]:
    """Submissions queued and being graded now (one indexed count)."""
    states = dict(session.execute(select(Submission.status, func.count()).where(Submission.status.in_((QUEUED, RUNNING)))
                                  .group_by(Submission.status)).all())
    return int(states.get(QUEUED, 0)), int(states.get(RUNNING, 0))


def _wait_seconds(session: Session):
    """Seconds from a submission's upload to its report, in this session's database's SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return literal_column("EXTRACT(EPOCH FROM (reports.created_at - submissions.created_at))")
    return literal_column("(julianday(reports.created_at) - julianday(submissions.created_at)) * 86400.0")


def activity(session: Session, *, now: datetime | None = None) -> Activity:
    now = now or datetime.now(timezone.utc)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    today = session.scalar(select(func.count()).select_from(Submission).where(Submission.created_at >= midnight))
    queued, running = queue(session)
    # The waits of the last hour's first gradings, ordered by the database: their count, then the one
    # or two in the middle and the one at 95 %, read at their offsets.
    wait = _wait_seconds(session)
    waits = (select(wait).select_from(GradingReport).join(Submission, Submission.id == GradingReport.submission_id)
             .where(GradingReport.created_at >= now - timedelta(hours=1), GradingReport.trigger == "submit")
             .order_by(wait))
    n = int(session.scalar(select(func.count()).select_from(waits.order_by(None).subquery())) or 0)

    def at(offset: int, count: int = 1) -> list[float]:
        return [max(0.0, float(v)) for v in session.scalars(waits.offset(offset).limit(count))]

    p50 = statistics.fmean(at((n - 1) // 2, 1 if n % 2 else 2)) if n else None
    p95 = at(min(n - 1, int(0.95 * n)))[0] if n else None
    return Activity(int(today or 0), queued, running, n, p50, p95)


def latest_report_id(session: Session) -> int:
    """The newest report's id: what the live pages poll (the primary key's maximum)."""
    return int(session.scalar(select(func.max(GradingReport.id))) or 0)


# ------------------------------------------------------------------ an exercise


@dataclass
class CodeStat:
    code: str
    explanation: str
    latest: int  # students whose latest attempt carries it
    ever: int  # students any of whose attempts carried it
    examples: list[tuple[str, int, bool]] = field(default_factory=list)  # (student, submission id, on latest)


@dataclass
class CaseStat:
    name: str
    attempts: int
    passed: int

    @property
    def rate(self) -> float:
        return self.passed / self.attempts if self.attempts else 0.0


@dataclass
class ExerciseStats:
    students: int  # students with a graded attempt
    submissions: int
    best_fractions: list[float]  # each student's best score / max score
    codes: list[CodeStat]
    cases: list[CaseStat]


def _generic(code: str) -> bool:
    """A symptom any exercise reports (``wrong-shape``): among codes as many students hit, the
    exercise's own mistakes (``dW-transposed``) rank first."""
    known = registry.CODES.get(code)
    return known is None or known.scope == registry.ANY


def exercise_stats(session: Session, *, exercise: str) -> ExerciseStats:
    sql = _json_sql(session)
    params = {"ex": exercise}
    best = session.execute(text(_CURRENT + "SELECT uid, MAX(score), MAX(max_score) FROM cur GROUP BY uid"),
                           params).all()
    fractions = [float(score) / float(top) if top else 0.0 for _uid, score, top in best]
    submissions = session.scalar(select(func.count()).select_from(Submission).where(Submission.exercise == exercise))
    # Per code, in one pass: how many students hit it on their latest attempt and ever, and the students
    # behind it (each one's newest submission with it, latest attempts first).
    ranked = session.execute(text(
        _CURRENT + f""", hits AS (
            SELECT {sql['code']} AS code, cur.uid AS uid, MAX(cur.sid) AS sid, MIN(cur.rn) AS rn
            FROM cur CROSS JOIN {sql['codes']} GROUP BY {sql['code']}, cur.uid
        ), ranked AS (
            SELECT code, uid, sid, rn,
                   ROW_NUMBER() OVER (PARTITION BY code ORDER BY rn, sid DESC) AS k,
                   SUM(CASE WHEN rn = 1 THEN 1 ELSE 0 END) OVER (PARTITION BY code) AS latest,
                   COUNT(*) OVER (PARTITION BY code) AS ever
            FROM hits
        )
        SELECT ranked.code, ranked.latest, ranked.ever, u.name, ranked.sid, ranked.rn
        FROM ranked JOIN users u ON u.id = ranked.uid
        WHERE ranked.k <= :n ORDER BY ranked.code, ranked.k"""), {**params, "n": EXAMPLES_PER_CODE}).all()
    stats: dict[str, CodeStat] = {}
    for code, latest, ever, name, sid, rn in ranked:
        stat = stats.setdefault(code, CodeStat(code, registry.explain(code), int(latest), int(ever)))
        stat.examples.append((name, int(sid), int(rn) == 1))
    cases = session.execute(text(
        _CURRENT + f"SELECT {sql['name']} AS name, COUNT(*) AS n, "
        f"SUM(CASE WHEN {sql['outcome']} = 'pass' THEN 1 ELSE 0 END) AS passed "
        f"FROM cur CROSS JOIN {sql['tests']} WHERE cur.rn = 1 GROUP BY {sql['name']}"), params).all()
    order = {name: i for i, name in enumerate(exercises.get(exercise).points)}
    return ExerciseStats(
        students=len(best), submissions=int(submissions or 0), best_fractions=fractions,
        codes=sorted(stats.values(), key=lambda c: (-c.latest, -c.ever, _generic(c.code), c.code)),
        cases=sorted((CaseStat(str(n), int(k), int(p or 0)) for n, k, p in cases),
                     key=lambda c: (order.get(c.name, len(order)), c.name)))


# ------------------------------------------------------------------ a student, a submission


@dataclass
class Attempt:
    id: int
    exercise: str
    filename: str
    created_at: datetime
    status: str
    score: float | None
    max_score: float | None
    diagnoses: list[str]


def attempts(session: Session, *, user_id: int) -> list[Attempt]:
    """Every submission of a student, oldest first, with its current report's score and codes."""
    rows = session.execute(
        select(Submission.id, Submission.exercise, Submission.filename, Submission.created_at, Submission.status,
               GradingReport.score, GradingReport.max_score, GradingReport.diagnoses)
        .outerjoin(GradingReport, and_(GradingReport.submission_id == Submission.id, GradingReport.is_current))
        .where(Submission.user_id == user_id).order_by(Submission.id)).all()
    return [Attempt(*row[:7], list(row[7] or [])) for row in rows]


def previous_attempt(session: Session, sub: Submission) -> Submission | None:
    """The same student's attempt at the same exercise just before ``sub``."""
    return session.scalar(select(Submission).where(Submission.user_id == sub.user_id,
                                                   Submission.exercise == sub.exercise, Submission.id < sub.id)
                          .order_by(Submission.id.desc()).limit(1))


def reports_of(session: Session, *, submission_id: int) -> list[GradingReport]:
    """Every report of a submission, newest first."""
    return list(session.scalars(select(GradingReport).where(GradingReport.submission_id == submission_id)
                                .order_by(GradingReport.id.desc())))
