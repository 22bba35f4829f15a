"""The instructor dashboard at the scale of a large course: every page and the CSV, timed over HTTP.

Run:  .venv/bin/python bench/bench_dashboard.py [--students 1000] [--submissions 20000] [--repeat 10]
                                               [--backend postgres sqlite] [--queries]

For each backend it makes a fresh database (PostgreSQL on 127.0.0.1:5432, trust auth, dropped
afterwards; or SQLite in a temporary folder), migrates it and fills it in bulk: the students, their
submissions spread over two weeks (a twentieth in the last hour, as before a deadline), ids in time
order, each with a current report whose tests, score and diagnosis codes follow a mistake profile
drawn from the exercise's own codes, and a tenth with an earlier report (a regrade).  Nothing is
graded.  Then it starts ``nngrade serve`` on that database, logs in through the dashboard's form and
times each page: one request to warm up, then ``--repeat`` requests, reporting p50 and the slowest.
``--queries`` also times the pieces in this process (the gradebook, each exercise's statistics, the
activity counters), to say where a page's time goes.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import sqlalchemy as sa

from serving import free_port, stop, wait_healthy  # the script's folder is on sys.path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import exercises  # noqa: E402
from graders.framework import codes as registry  # noqa: E402
from service.db import DONE, Database, GradingReport, Submission, User  # noqa: E402
from service.db.engine import make_engine  # noqa: E402
from service.db.migrate import upgrade  # noqa: E402
from service.db.tokens import create_token  # noqa: E402

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
GENERIC = ["wrong-shape", "wrong-dtype", "exception", "timeout", "not-finite", "too-slow"]
ISOLATION = ["process", "namespaces", "rlimits", "seccomp", "no-new-privs"]
CHUNK = 2000


# ------------------------------------------------------------------ the class, in bulk


def _report(rng: random.Random, ex: exercises.Exercise, correct: bool, mistakes: list[str]) -> dict:
    tests, codes = [], sorted(set(mistakes)) if not correct else []
    for name, points in ex.points.items():
        passed = correct or rng.random() < 0.45
        tests.append({"name": name, "outcome": "pass" if passed else "fail", "score": points if passed else 0.0,
                      "max_score": points, "visibility": "visible", "diagnoses": [] if passed else codes,
                      "message": "" if passed else f"{name}: {', '.join(codes)}"})
    score = round(sum(t["score"] for t in tests), 4)
    return {"status": "graded", "score": score, "max_score": ex.total_points, "diagnoses": codes, "tests": tests,
            "isolation": ISOLATION, "hidden_included": True}


def seed(db: Database, *, students: int, submissions: int, rng: random.Random) -> dict:
    """Fill ``db``; returns the instructor's token and a student's and a submission's ids to open."""
    all_ex = exercises.all_exercises()
    own = {ex.id: [c.code for c in registry.CODES.values() if ex.id in c.scopes] or GENERIC for ex in all_ex}
    now = datetime.now(timezone.utc)
    with db.write_session() as session:
        token = create_token(session, name="bench-prof", role="instructor")[1]
        user_ids = list(session.scalars(sa.insert(User).returning(User.id, sort_by_parameter_order=True),
                                        [{"name": f"Student {i:04d}", "role": "student", "created_at": now}
                                         for i in range(students)]))
    # Each student's habitual mistakes on each exercise: the class shares a few, as real classes do.
    profile = {(u, ex.id): rng.sample(own[ex.id][:4], k=min(2, len(own[ex.id][:4])))
               + ([rng.choice(GENERIC)] if rng.random() < 0.3 else []) for u in user_ids for ex in all_ex}
    plan = []
    for _ in range(submissions):
        late = rng.random() < 0.05
        when = now - (timedelta(seconds=rng.uniform(0, 3500)) if late else timedelta(days=rng.uniform(0, 14)))
        plan.append((when, rng.choice(user_ids), rng.choice(all_ex)))
    plan.sort(key=lambda p: p[0])
    attempts: dict[tuple[int, str], int] = {}
    for start in range(0, len(plan), CHUNK):
        rows, reports = [], []
        for when, uid, ex in plan[start:start + CHUNK]:
            n = attempts[(uid, ex.id)] = attempts.get((uid, ex.id), 0) + 1
            correct = rng.random() < min(0.85, 0.15 + 0.2 * n)  # students improve with attempts
            source = f"# attempt {n} of student {uid}\nimport numpy as np\n".encode()
            rows.append({"user_id": uid, "exercise": ex.id, "filename": f"{ex.id}.py", "content": source,
                         "size": len(source), "sha256": uuid.uuid4().hex * 2, "created_at": when, "queued_at": when,
                         "status": DONE, "attempts": 1, "finished_at": when + timedelta(seconds=1)})
            reports.append((when, ex, correct, profile[(uid, ex.id)]))
        with db.write_session() as session:
            ids = list(session.scalars(sa.insert(Submission).returning(Submission.id, sort_by_parameter_order=True),
                                       rows))
            batch = []
            for sid, (when, ex, correct, mistakes) in zip(ids, reports):
                if rng.random() < 0.1:  # regraded once: the first report is kept, not current
                    old = _report(rng, ex, False, mistakes)
                    batch.append(_report_row(sid, when, old, current=False, trigger="submit"))
                rep = _report(rng, ex, correct, mistakes)
                batch.append(_report_row(sid, when + timedelta(seconds=rng.uniform(0.05, 3)), rep, current=True,
                                         trigger="submit"))
            session.execute(sa.insert(GradingReport), batch)
    some_student = user_ids[len(user_ids) // 2]
    with db.session() as session:
        some_submission = session.scalar(sa.select(sa.func.max(Submission.id)).where(Submission.user_id == some_student))
    return {"token": token, "student": some_student, "submission": some_submission}


def _report_row(sid: int, when: datetime, rep: dict, *, current: bool, trigger: str) -> dict:
    return {"submission_id": sid, "is_current": current, "created_at": when, "trigger": trigger,
            "status": "graded", "score": rep["score"], "max_score": rep["max_score"], "seed": 1,
            "grader_version": "bench", "exercise_version": "1.0.0", "diagnoses": rep["diagnoses"],
            "duration_ms": 25.0, "report": rep}


# ------------------------------------------------------------------ timing


def timed(fn, repeat: int) -> tuple[float, float]:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000, max(times) * 1000


def time_queries(db: Database, repeat: int) -> list[tuple[str, float, float]]:
    from service.course import gradebook
    from service.dashboard import queries

    def run(fn):
        def go():
            with db.session() as session:
                fn(session)
        return go

    out = [("gradebook (best)", *timed(run(lambda s: gradebook.build(s, mode="best")), repeat)),
           ("activity", *timed(run(queries.activity), repeat)),
           ("student_ids", *timed(run(queries.student_ids), repeat))]
    for ex in exercises.all_exercises():
        out.append((f"exercise_stats({ex.id})", *timed(run(lambda s, e=ex.id: queries.exercise_stats(s, exercise=e)),
                                                       repeat)))
    return out


def pages(info: dict) -> list[tuple[str, str]]:
    listed = [("overview (best)", "/dashboard/"), ("overview (latest)", "/dashboard/?mode=latest"),
              ("overview sorted by total, filtered", "/dashboard/?q=1&sort=total&order=desc")]
    listed += [(f"exercise {ex.id}", f"/dashboard/exercises/{ex.id}") for ex in exercises.all_exercises()]
    listed += [("a student", f"/dashboard/students/{info['student']}"),
               ("a submission", f"/dashboard/submissions/{info['submission']}"),
               ("the overview's CSV", "/dashboard/gradebook.csv"), ("live (what pages poll)", "/dashboard/live")]
    return listed


def serve(url: str, work: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "NNGRADE_PORT": str(port), "NNGRADE_LOG_LEVEL": "warning", "NNGRADE_DATA_DIR": str(work),
           "NNGRADE_RATE_LIMIT": "0"}
    env.pop("NNGRADE_DATABASE_URL", None)
    if url.startswith("postgresql"):
        env["DATABASE_URL"] = url
    else:
        env.pop("DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "nngrade", "serve"], env=env, cwd=work,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    if wait_healthy(base, seconds=120):
        return proc, base
    proc.kill()
    raise SystemExit("nngrade serve did not start")


def login(base: str, token: str) -> httpx.Client:
    # A new connection per request: on a reused one this machine adds ~40 ms to every answer (a delayed
    # ACK against the server's two writes), which would hide the pages' own cost.
    client = httpx.Client(base_url=base, timeout=300, limits=httpx.Limits(max_keepalive_connections=0))
    form = client.get("/dashboard/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    done = client.post("/dashboard/login", data={"token": token, "csrf_token": csrf})
    if done.status_code != 303:
        raise SystemExit(f"login failed: {done.status_code}")
    return client


def run_backend(backend: str, args) -> None:
    work = Path(tempfile.mkdtemp(prefix="nngrade-bench-dash-"))
    admin = name = None
    if backend == "postgres":
        name = f"nngrade_bench_dash_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    else:
        url = f"sqlite:///{work / 'nngrade.sqlite3'}"
    db = Database(make_engine(url), url)
    proc = None
    try:
        upgrade(db)
        t = time.perf_counter()
        info = seed(db, students=args.students, submissions=args.submissions, rng=random.Random(args.seed))
        print(f"\n## {backend}: {args.students} students, {args.submissions} submissions "
              f"(seeded in {time.perf_counter() - t:.1f} s)\n", flush=True)
        if args.queries:
            print("| in-process piece | p50 | slowest |\n|---|---|---|")
            for label, p50, worst in time_queries(db, args.repeat):
                print(f"| {label} | {p50:.0f} ms | {worst:.0f} ms |", flush=True)
            print()
        proc, base = serve(url, work)
        client = login(base, info["token"])
        print("| page | p50 | slowest | size |\n|---|---|---|---|")
        for label, path in pages(info):
            sizes = []

            def get(path=path, sizes=sizes):
                response = client.get(path)
                if response.status_code != 200:
                    raise SystemExit(f"{path}: {response.status_code}")
                sizes.append(len(response.content))

            p50, worst = timed(get, args.repeat)
            print(f"| {label} | {p50:.0f} ms | {worst:.0f} ms | {sizes[-1] / 1024:.0f} kB |", flush=True)
        client.close()
    finally:
        if proc is not None:
            stop([proc])
        db.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--submissions", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--backend", nargs="+", choices=["postgres", "sqlite"], default=["postgres", "sqlite"])
    parser.add_argument("--queries", action="store_true", help="also time the queries in this process")
    args = parser.parse_args()
    print(f"# {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")
    for backend in args.backend:
        run_backend(backend, args)


if __name__ == "__main__":
    main()
