"""kill -9 loses nothing; a submission that kills its worker twice is failed with `crashed` and never
blocks the queue.  The service runs as a real subprocess and is killed for real."""

from __future__ import annotations

import pathlib
import signal
import time

import httpx

REFERENCE = pathlib.Path(__file__).resolve().parents[3] / "reference" / "dense.py"
SLOW = REFERENCE.read_text() + "\nimport time\ntime.sleep(1)\n"  # correct, but each grading takes a while
KILLER = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"


def statuses(api, ids) -> dict[int, str]:
    items = api.get("/api/v1/submissions", params={"limit": 1000}).json()["items"]
    return {i["id"]: i["status"] for i in items if i["id"] in ids}


def one_current_report(api, sid) -> dict:
    history = api.get(f"/api/v1/submissions/{sid}/reports").json()
    assert sum(h["current"] for h in history) == 1, history
    return next(h for h in history if h["current"])


def test_sigkill_with_submissions_queued_and_running_loses_nothing(start_service):
    # first an API-only service: everything stays queued when it is killed
    svc = start_service(workers=1, rate_limit=0, grade_in_process=False)
    student = svc.api(svc.token("student", "ada"))
    ids = [student.accepted("dense", source=SLOW, filename=f"dense{i}.py") for i in range(5)]
    assert svc.kill(signal.SIGKILL) == -signal.SIGKILL
    # then a grading service, killed while it grades one of them
    svc.env["NNGRADE_GRADE_IN_PROCESS"] = "true"
    svc.start()
    deadline = time.monotonic() + 60
    while "running" not in (seen := statuses(student, ids)).values():
        assert time.monotonic() < deadline, f"nothing started grading: {seen}"
        time.sleep(0.02)
    assert svc.kill(signal.SIGKILL) == -signal.SIGKILL
    assert "queued" in seen.values()
    svc.start()
    for sid in ids:
        body = student.wait(sid)
        assert body["status"] == "done"
        assert all(t["outcome"] == "pass" or t["diagnoses"] == ["too-slow"] for t in body["report"]["tests"])
        assert len(student.get(f"/api/v1/submissions/{sid}/reports").json()) == 1
        one_current_report(student, sid)
    assert max(s["attempts"] for s in student.get("/api/v1/submissions").json()["items"]) == 2


def test_a_submission_that_kills_its_worker_twice_fails_as_crashed_and_the_queue_moves_on(start_service):
    svc = start_service(workers=2, rate_limit=0, max_attempts=2, grade_in_process=False)
    student = svc.api(svc.token("student", "mallory"))
    killer = student.accepted("dense", source=KILLER, filename="dense.py")
    good = student.accepted("dense", REFERENCE)  # queued behind the killer
    svc.kill(signal.SIGTERM)
    svc.env["NNGRADE_GRADE_IN_PROCESS"] = "true"
    svc.start(may_die=True)
    deadline = time.monotonic() + 180
    while True:
        assert time.monotonic() < deadline, svc.log[-3000:]
        if svc.proc.poll() is not None:  # the submission took the service down: start it again
            assert svc.starts < 4, "the queue kept running the same killer"
            svc.start(may_die=True)
            continue
        try:
            if set(statuses(student, [killer, good]).values()) <= {"done", "failed"}:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    crashed = student.wait(killer)
    assert crashed["report"]["score"] == 0
    if svc.starts > 2:  # it took the worker down (in-process runner): twice, then it was given up
        assert svc.starts == 4 and crashed["status"] == "failed" and crashed["attempts"] == 2
        assert crashed["report"]["diagnoses"] == ["crashed"]
        assert all(t["diagnoses"] == ["crashed"] and t["outcome"] == "error" for t in crashed["report"]["tests"])
    else:  # the sandbox contained it: an ordinary report
        assert crashed["status"] == "done" and crashed["attempts"] == 1
    one_current_report(student, killer)
    graded = student.wait(good)
    assert graded["status"] == "done" and graded["attempts"] == 1  # never charged for the killer's crashes
    assert all(t["outcome"] == "pass" or t["diagnoses"] == ["too-slow"]
               for t in one_current_report(student, good)["report"]["tests"])
    assert svc.api().get("/healthz").status_code == 200
