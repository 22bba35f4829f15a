"""The Celery engine on the machine's PostgreSQL and RabbitMQ: an API process and ``nngrade worker``
processes, killed and disconnected for real.  Nothing is lost, nothing is graded twice, and every
kind of submission gets the report the embedded default gives it."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from service.grading import grade

pytestmark = pytest.mark.postgres

ROOT = pathlib.Path(__file__).resolve().parents[3]
REFERENCE = ROOT / "reference"
SOLUTIONS = ROOT / "tests" / "graders" / "solutions"
DENSE = (REFERENCE / "dense.py").read_text()
WRONG = DENSE.replace("dY.T @ X", "X.T @ dY")
SLOW = DENSE + "\nimport time\ntime.sleep(1.5)\n"  # correct, and each grading takes a while


def submit_many(api, sources: list[tuple[str, str]], *, threads: int = 8) -> list[int]:
    """Submit ``(exercise, source)`` pairs concurrently; every one must be accepted."""
    def one(i: int) -> int:
        exercise, source = sources[i]
        return api.accepted(exercise, source=source, filename=f"{exercise}.py", key=f"k{i}-{time.time_ns()}")

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(len(sources))))


def reports(api, sid: int) -> list[dict]:
    response = api.get(f"/api/v1/submissions/{sid}/reports")
    assert response.status_code == 200, response.text
    return response.json()


def wait_all(api, ids: list[int], timeout: float = 300) -> dict[int, dict]:
    done = {}
    deadline = time.monotonic() + timeout
    for sid in ids:
        done[sid] = api.wait(sid, timeout=max(1.0, deadline - time.monotonic()))
    return done


def assert_graded_once(api, ids: list[int]) -> None:
    for sid in ids:
        history = reports(api, sid)
        assert len(history) == 1 and history[0]["current"], (sid, history)
        assert history[0]["trigger"] == "submit", history[0]


def test_two_workers_grade_300_submissions_each_exactly_once(topology):
    top = topology(workers=2, concurrency=1)
    prof = top.api.api(top.api.token("instructor", "prof"))
    students = [top.api.api(top.api.token("student", f"s{i}")) for i in range(10)]
    ids: list[int] = []
    for k, student in enumerate(students):
        ids += submit_many(student, [("dense", DENSE if (k + i) % 3 else WRONG) for i in range(30)], threads=4)
    assert len(set(ids)) == 300
    final = wait_all(prof, ids)
    assert {b["status"] for b in final.values()} == {"done"}
    assert_graded_once(prof, ids)
    scores = sorted({(b["report"]["score"], b["report"]["max_score"]) for b in final.values()})
    assert scores[-1][0] == scores[-1][1] and scores[0][0] < scores[0][1]  # the right ones full, the wrong not
    # both workers took part
    for worker in top.workers:
        assert "nngrade.grade" in worker.log and "succeeded" in worker.log, worker.log[-2000:]


def test_a_worker_killed_mid_grading_loses_nothing(topology):
    top = topology(workers=2, concurrency=1, lease_seconds=3)
    prof = top.api.api(top.api.token("instructor", "prof"))
    student = top.api.api(top.api.token("student", "ada"))
    ids = submit_many(student, [("dense", SLOW)] * 8)
    deadline = time.monotonic() + 60
    while not any(prof.get(f"/api/v1/submissions/{i}").json()["status"] == "running" for i in ids):
        assert time.monotonic() < deadline, "nothing started grading"
        time.sleep(0.05)
    assert top.workers[0].kill(signal.SIGKILL) == -signal.SIGKILL
    final = wait_all(prof, ids)
    for sid, body in final.items():
        assert body["status"] == "done", body
        assert body["report"]["score"] == body["report"]["max_score"], body["report"]
        assert len(reports(prof, sid)) == 1


def test_a_broker_restart_mid_run_loses_nothing(topology, rabbitmq):
    top = topology(workers=2, concurrency=1)
    prof = top.api.api(top.api.token("instructor", "prof"))
    student = top.api.api(top.api.token("student", "ada"))
    ids = submit_many(student, [("dense", SLOW)] * 6)
    rabbitmq.stop()
    try:
        # the broker is away: submissions are still accepted and committed
        ids += submit_many(student, [("dense", DENSE)] * 10)
        ready = top.api.api().get("/readyz")
        assert ready.status_code == 503 and not ready.json()["checks"]["broker"]["ok"], ready.text
    finally:
        rabbitmq.start()
    final = wait_all(prof, ids)
    assert {b["status"] for b in final.values()} == {"done"}
    assert_graded_once(prof, ids)


def test_the_api_answers_while_the_workers_are_busy(topology):
    top = topology(workers=1, concurrency=1)
    student = top.api.api(top.api.token("student", "ada"))
    ids = submit_many(student, [("dense", SLOW)] * 4)
    seen_running = False
    while student.get(f"/api/v1/submissions/{ids[-1]}").json()["status"] != "done":
        assert student.get("/healthz").status_code == 200
        assert student.get("/api/v1/me").status_code == 200
        seen_running |= any(student.get(f"/api/v1/submissions/{i}").json()["status"] == "running" for i in ids)
        time.sleep(0.2)
    assert seen_running


def test_a_duplicated_task_for_a_graded_submission_does_nothing(topology):
    from service.config import Settings
    from service.worker.celery_app import make_celery, send_grading

    top = topology(workers=1, concurrency=1)
    prof = top.api.api(top.api.token("instructor", "prof"))
    sid = prof.accepted("dense", source=DENSE)
    prof.wait(sid)
    app = make_celery(Settings(broker_url=top.api.settings["broker_url"]))
    for _ in range(3):
        send_grading(app, sid)
    other = prof.accepted("dense", source=WRONG)  # behind the duplicates in the broker's queue
    prof.wait(other)
    assert len(reports(prof, sid)) == 1


def test_readyz_and_metrics_cover_the_broker_and_the_workers(topology):
    top = topology(workers=1, concurrency=2)
    anon = top.api.api()
    ready = anon.get("/readyz")
    assert ready.status_code == 200, ready.text
    checks = ready.json()["checks"]
    assert checks["broker"]["ok"] and checks["workers"]["ok"]
    assert "1 worker process(es), 2 grading thread(s)" in checks["workers"]["detail"]
    metrics = anon.get("/metrics").text
    for line in ("nngrade_broker_up 1", "nngrade_worker_processes 1", "nngrade_worker_threads 2",
                 "nngrade_oldest_queued_seconds 0"):
        assert line in metrics, metrics
    top.workers[0].stop()  # a clean stop removes its row at once
    ready = anon.get("/readyz")
    assert ready.status_code == 503 and "nngrade worker" in ready.json()["checks"]["workers"]["detail"]


def test_sigterm_finishes_the_grading_in_progress(topology):
    top = topology(workers=1, concurrency=1)
    student = top.api.api(top.api.token("student", "ada"))
    sid = student.accepted("dense", source=SLOW)
    deadline = time.monotonic() + 60
    while student.get(f"/api/v1/submissions/{sid}").json()["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert top.workers[0].kill(signal.SIGTERM) == 0
    body = student.get(f"/api/v1/submissions/{sid}").json()
    assert body["status"] == "done" and body["report"]["score"] == body["report"]["max_score"], body


def _kinds() -> list[tuple[str, pathlib.Path]]:
    kinds = [(p.stem, p) for p in sorted(REFERENCE.glob("*.py")) if p.stem != "__init__"]
    for folder in sorted(SOLUTIONS.iterdir()):
        exercise = "dense" if folder.name == "framework" else folder.name
        kinds += [(exercise, p) for p in sorted(folder.glob("*.py"))]
    return kinds


#: A too slow submission ends ``too-slow`` or, past the wall limit, ``timeout``: which one depends on
#: how busy the machine is (two workers and this test share two cores), not on where it ran.
SLOW_CODES = {"too-slow", "timeout"}


def _shape(report: dict) -> list[tuple]:
    """What must agree between two gradings with one seed: every test's outcome, codes and score."""
    def one(t: dict) -> tuple:
        if SLOW_CODES & set(t["diagnoses"]):
            return t["name"], "too slow", round(t["score"], 6)
        return t["name"], t["outcome"], tuple(t["diagnoses"]), round(t["score"], 6)

    return [one(t) for t in report["tests"]]


def test_every_kind_of_submission_gets_the_report_of_the_embedded_default(topology):
    top = topology(workers=2, concurrency=1)
    prof = top.api.api(top.api.token("instructor", "prof"))
    kinds = _kinds()
    ids = submit_many(prof, [(exercise, path.read_text()) for exercise, path in kinds], threads=4)
    final = wait_all(prof, ids, timeout=900)
    for (exercise, path), sid in zip(kinds, ids):
        remote = final[sid]["report"]
        local = grade(exercise, path.read_text(), filename=f"{exercise}.py", include_hidden=True,
                      seed=remote["seed"]).model_dump(mode="json")
        assert _shape(remote) == _shape(local), f"{path.relative_to(ROOT)}"


def test_nngrade_worker_without_a_broker_says_what_it_needs(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NNGRADE_BROKER_URL"}
    done = subprocess.run([sys.executable, "-m", "nngrade", "worker"], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "NNGRADE_BROKER_URL" in done.stderr, done.stderr
