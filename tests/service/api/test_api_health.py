"""/healthz, /readyz and /metrics, as a load balancer and Prometheus read them."""

from __future__ import annotations

import pathlib
import re


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
