"""A deadline spike: the per-student rate limit (429) and the queue cap (503) answer with Retry-After,
and the health checks keep answering while the queue is full."""

from __future__ import annotations

import pathlib
import threading

REFERENCE = pathlib.Path(__file__).resolve().parents[3] / "reference" / "dense.py"
SLOW = REFERENCE.read_text() + "\nimport time\ntime.sleep(0.3)\n"


def test_rate_limit_per_student(start_service):
    svc = start_service(rate_limit=3, grade_in_process=False)
    ann = svc.api(svc.token("student", "ann"))
    bea = svc.api(svc.token("student", "bea"))
    prof = svc.api(svc.token("instructor", "prof"))
    codes = [ann.submit("dense", REFERENCE, key=f"k{i}").status_code for i in range(3)]
    assert codes == [202, 202, 202]
    refused = ann.submit("dense", REFERENCE, key="k3")
    assert refused.status_code == 429 and refused.json()["code"] == "rate-limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert ann.submit("dense", REFERENCE, key="k0").status_code == 202  # a retry of an accepted one still answers
    assert bea.submit("dense", REFERENCE).status_code == 202  # the limit is per student
    assert prof.submit("dense", REFERENCE).status_code == 202
    assert 'nngrade_submissions_refused_total{reason="rate-limit"} 1' in svc.api().get("/metrics").text


def test_queue_cap_and_health_under_a_full_queue(start_service):
    svc = start_service(queue_max=5, rate_limit=0, grade_in_process=False)
    ann = svc.api(svc.token("student", "ann"))
    anonymous = svc.api()
    results: list[int] = []
    health: list[int] = []

    def spike(i: int) -> None:
        results.append(ann.submit("dense", source=SLOW, filename=f"d{i}.py").status_code)

    threads = [threading.Thread(target=spike, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        health.append(anonymous.get("/healthz", timeout=5).status_code)
    for t in threads:
        t.join()
    assert sorted(results) == [202] * 5 + [503] * 7
    refused = ann.submit("dense", source=SLOW)
    assert refused.status_code == 503 and refused.json()["code"] == "queue-full"
    assert int(refused.headers["Retry-After"]) >= 1
    assert health and set(health) == {200}
    ready = anonymous.get("/readyz").json()
    assert ready["checks"]["database"]["ok"] and "no grading" in ready["checks"]["workers"]["detail"]
    assert "nngrade_queue_depth 5" in anonymous.get("/metrics").text
    # a grading process drains the queue
    svc.kill()
    svc.env["NNGRADE_GRADE_IN_PROCESS"] = "true"
    svc.start()
    items = ann.get("/api/v1/submissions").json()["items"]
    assert len(items) == 5
    assert all(ann.wait(i["id"])["status"] == "done" for i in items)
    assert ann.submit("dense", REFERENCE).status_code == 202


def test_health_answers_while_workers_grade(start_service):
    svc = start_service(workers=1, rate_limit=0)
    ann = svc.api(svc.token("student", "ann"))
    slower = REFERENCE.read_text() + "\nimport time\ntime.sleep(1)\n"
    ids = [ann.accepted("dense", source=slower, filename=f"d{i}.py") for i in range(5)]
    anonymous = svc.api()
    busy = 0
    while ann.get(f"/api/v1/submissions/{ids[-1]}").json()["status"] != "done":
        response = anonymous.get("/healthz", timeout=5)
        assert response.status_code == 200 and response.json()["status"] == "ok"
        busy += 1
    assert busy > 0
