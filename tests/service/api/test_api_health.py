"""/healthz, /readyz and /metrics, as a load balancer and Prometheus read them."""

from __future__ import annotations

import pathlib
import re
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest


REFERENCE = pathlib.Path(__file__).resolve().parents[3] / "reference" / "dense.py"


def test_healthz_reports_the_isolation_layers(users):
    body = users.anonymous.get("/healthz").json()
    assert body["status"] == "ok" and body["version"]
    assert body["isolation"] and all(isinstance(layer, str) for layer in body["isolation"])


def test_readyz_checks_database_sandbox_workers_and_references(users, backend):
    response = users.anonymous.get("/readyz")
    body = response.json()
    assert set(body["checks"]) == {"database", "sandbox", "workers", "references"}
    assert body["checks"]["database"] == {"ok": True, "detail": "sqlite" if backend == "sqlite" else "postgresql"}
    assert body["checks"]["sandbox"]["ok"] and body["checks"]["workers"]["ok"]
    assert response.status_code == (200 if body["ready"] else 503)
    assert body["ready"] == all(c["ok"] for c in body["checks"].values())
    assert body["isolation"] == users.anonymous.get("/healthz").json()["isolation"]


def test_metrics_expose_queue_latency_and_outcomes(users):
    sid = users.alice.accepted("dense", REFERENCE)
    report = users.alice.wait(sid)["report"]
    text = users.anonymous.get("/metrics")
    assert text.headers["content-type"].startswith("text/plain")
    body = text.text
    assert re.search(r"^nngrade_queue_depth \d+$", body, re.M)
    assert re.search(r'^nngrade_submissions\{status="done"\} [1-9]\d*$', body, re.M)
    count = int(re.search(r'^nngrade_grading_seconds_count\{exercise="dense"\} (\d+)$', body, re.M).group(1))
    inf = int(re.search(r'^nngrade_grading_seconds_bucket\{exercise="dense",le="\+Inf"\} (\d+)$', body, re.M)
              .group(1))
    assert count == inf >= 1
    assert re.search(r'^nngrade_gradings_total\{exercise="dense",status="done"\} [1-9]\d*$', body, re.M)
    assert re.search(r'^nngrade_case_outcomes_total\{exercise="dense",outcome="pass"\} [1-9]\d*$', body, re.M)
    for code in report["diagnoses"]:
        assert f'nngrade_diagnoses_total{{exercise="dense",code="{code}"}}' in body
    assert "# TYPE nngrade_grading_seconds histogram" in body
    # a mistake shows up by its diagnosis code
    wrong = users.alice.accepted("dense", source=REFERENCE.read_text().replace("dY.T @ X", "X.T @ dY"),
                                 filename="dense.py")
    codes = users.alice.wait(wrong)["report"]["diagnoses"]
    assert "dW-transposed" in codes
    assert 'nngrade_diagnoses_total{exercise="dense",code="dW-transposed"}' in users.anonymous.get("/metrics").text


PROBE_SECONDS = 5.0
THREAD_POOL = 40  # anyio's default number of worker threads, which sync routes and dependencies share


@pytest.mark.parametrize("backend", ["sqlite"])
def test_healthz_answers_while_every_worker_thread_is_blocked(start_service):
    """Every thread of the pool waits on the database's write lock (held here); /healthz needs none."""
    svc = start_service(grade_in_process=False, rate_limit=0)
    ada = svc.api(svc.token("student", "ada"))
    holder = sqlite3.connect(svc.settings["data_dir"] / "nngrade.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # every write now waits (busy_timeout, 30 s) in a worker thread
    probes: list[int] = []

    def probe_healthz() -> None:  # one request after another while the writes pile up and block
        anonymous = svc.api()
        ends = time.monotonic() + PROBE_SECONDS
        while time.monotonic() < ends:
            probes.append(anonymous.get("/healthz", timeout=60).status_code)

    try:
        with ThreadPoolExecutor(THREAD_POOL + 10) as pool:
            posts = [pool.submit(ada.submit, "dense", REFERENCE, key=f"k{i}") for i in range(THREAD_POOL + 10)]
            prober = threading.Thread(target=probe_healthz)
            prober.start()
            prober.join(25)  # bounded so that a failure ends before the writes give up
            assert not prober.is_alive(), f"/healthz stopped answering after {len(probes)} probes"
            assert not any(p.done() for p in posts)  # the threads were all blocked meanwhile
            holder.execute("ROLLBACK")
            assert {p.result().status_code for p in posts} == {202}
        assert probes and set(probes) == {200}
    finally:
        holder.close()
