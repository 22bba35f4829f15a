"""The service's own faults are never the student's (issue 11 section 2): a service killed twice
while it grades, and two services grading from one PostgreSQL database.  Real subprocesses,
real kills, the sandbox."""

from __future__ import annotations

import json
import pathlib
import re
import signal
import time

import pytest

REFERENCE = pathlib.Path(__file__).resolve().parents[3] / "reference"
NAP = "\nimport time\ntime.sleep({seconds})\n"  # correct code that takes a while; sleeping costs no CPU time
STUDENT_BLAME = ("look for code", "ends the process", "stopped the grading process", "crashed")


def correct(exercise: str, nap: float) -> str:
    return (REFERENCE / f"{exercise}.py").read_text() + NAP.format(seconds=nap)


def wait_until_graded(api, sid: int, attempt: int, timeout: float = 90) -> None:
    """Until ``sid`` is running its ``attempt``-th grading (a claim left by a killed service reads
    ``running`` too, with the attempt before)."""
    deadline = time.monotonic() + timeout
    while (body := api.get(f"/api/v1/submissions/{sid}").json())["status"] != "running" \
            or body["attempts"] != attempt:
        assert time.monotonic() < deadline, f"submission {sid} is not running attempt {attempt}: {body}"
        time.sleep(0.02)


def assert_full_marks_once(api, sid: int) -> dict:
    """The submission is done at full marks, with one report (graded once), that blames nobody."""
    body = api.wait(sid, timeout=240)
    assert body["status"] == "done", body
    report = body["report"]
    assert report["score"] == report["max_score"], report
    text = json.dumps(report).lower()
    assert not any(words in text for words in STUDENT_BLAME), report
    history = api.get(f"/api/v1/submissions/{sid}/reports").json()
    assert len(history) == 1 and history[0]["current"], history
    return body


@pytest.mark.parametrize("backend", ["sqlite"])  # the embedded default; leases on PostgreSQL: the test below
def test_two_kills_mid_grading_fail_nobody(start_service):
    svc = start_service(workers=1, rate_limit=0, max_attempts=2)
    ada = svc.api(svc.token("student", "ada"))
    ids = [ada.accepted(exercise, source=correct(exercise, 1.5), filename=f"{exercise}.py")
           for exercise in ("lora", "toeplitz", "lora", "toeplitz")]
    for attempt in (1, 2):  # the first submission is killed in its first and in its second grading
        wait_until_graded(ada, ids[0], attempt)
        assert svc.kill(signal.SIGKILL) == -signal.SIGKILL
        svc.start()
    bodies = [assert_full_marks_once(ada, sid) for sid in ids]
    assert bodies[0]["attempts"] == 3
    assert "crashed" not in svc.api().get("/metrics").text.split("nngrade_diagnoses_total", 1)[-1]


def graded_here(metrics: str) -> int:
    return sum(int(float(n)) for n in re.findall(r'^nngrade_gradings_total\{[^}]*\} (\S+)$', metrics, re.M))


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"])
def test_two_services_on_one_postgres_database_grade_each_submission_once(start_service):
    first = start_service(workers=1, rate_limit=0)
    token = first.token("student", "ada")
    exercises = ("dense", "lora", "toeplitz")
    batch = [(exercises[i % 3], correct(exercises[i % 3], 0.3)) for i in range(12)]
    ada = first.api(token)
    ids = [ada.accepted(exercise, source=source, filename=f"{exercise}.py") for exercise, source in batch[:6]]
    wait_until_graded(ada, ids[0], 1)
    # started while the first grades: its start-up recovery must leave the first's live claims alone
    second = start_service(workers=1, rate_limit=0)
    assert first.db_url == second.db_url  # start_service: one fresh database per test
    apis = [ada, second.api(token)]
    ids += [apis[i % 2].accepted(exercise, source=source, filename=f"{exercise}.py")
            for i, (exercise, source) in enumerate(batch[6:])]
    bodies = [assert_full_marks_once(apis[0], sid) for sid in ids]
    assert all(b["attempts"] == 1 for b in bodies)  # no claim was taken from the live service holding it
    counts = [graded_here(api.get("/metrics").text) for api in apis]
    assert sum(counts) == len(ids) and min(counts) > 0, counts  # both graded, none graded twice
    for svc in (first, second):
        assert "took back stale claims" not in svc.log
