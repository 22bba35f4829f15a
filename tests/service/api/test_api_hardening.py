"""The service under attack and faults (issue 11 section 2): duplicate fields, disguised filenames,
long-polls capped per user, one process per SQLite data directory, a port in use found first."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading

import httpx
import pytest

DENSE = "import numpy as np\n\ndef dense_forward(X, W, b):\n    return X @ W.T + b\n"


def test_duplicate_form_fields_are_422(users):
    two_exercises = users.alice.post("/api/v1/submissions", data={"exercise": ["lora", "dense"]},
                                     files={"file": ("dense.py", DENSE.encode())})
    assert two_exercises.status_code == 422 and two_exercises.json()["code"] == "duplicate-field"
    two_files = users.alice.post("/api/v1/submissions", data={"exercise": "dense"},
                                 files=[("file", ("a.py", DENSE.encode())), ("file", ("b.py", DENSE.encode()))])
    assert two_files.status_code == 422 and "'file'" in two_files.json()["message"]


def test_bidi_and_format_characters_are_stripped_from_filenames(users):
    sid = users.alice.accepted("dense", source=DENSE, filename="\u202egnp.py\u200b")
    assert users.alice.get(f"/api/v1/submissions/{sid}").json()["filename"] == "gnp.py"


def test_long_polls_are_capped_per_user_and_healthz_answers_meanwhile(start_service):
    svc = start_service(grade_in_process=False, long_poll_per_user=3)
    ann = svc.api(svc.token("student", "ann"))
    bea = svc.api(svc.token("student", "bea"))
    sid = ann.accepted("dense", source=DENSE, filename="dense.py")  # stays queued: nobody grades here
    held: list[int] = []
    waiters = [threading.Thread(target=lambda: held.append(
        ann.get(f"/api/v1/submissions/{sid}", params={"wait": 4}).status_code)) for _ in range(3)]
    for t in waiters:
        t.start()
    deadline_metric = 'nngrade_long_polls 3'
    while deadline_metric not in svc.api().get("/metrics").text:
        pass
    refused = ann.get(f"/api/v1/submissions/{sid}", params={"wait": 4})
    assert refused.status_code == 429 and refused.json()["code"] == "too-many-waits"
    assert refused.headers["Retry-After"]
    assert ann.get(f"/api/v1/submissions/{sid}").status_code == 200  # without ?wait: no cap
    assert svc.api().get("/healthz").status_code == 200
    assert bea.get("/api/v1/me").status_code == 200
    for t in waiters:
        t.join()
    assert held == [200, 200, 200]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_second_service_on_one_sqlite_data_dir_is_refused(start_service):
    svc = start_service(grade_in_process=False)
    other = dict(svc.env, NNGRADE_PORT=str(_free_port()))
    done = subprocess.run([sys.executable, "-m", "nngrade", "serve"], env=other, cwd=svc.workdir,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "another nngrade service" in done.stderr and "--data-dir" in done.stderr
    assert httpx.get(svc.base + "/healthz").status_code == 200


def test_a_port_in_use_is_named_before_start_up(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "nngrade", "serve", "--port", str(port),
                               "--data-dir", str(tmp_path / "data")], capture_output=True, text=True, timeout=60,
                              cwd=tmp_path)
    assert done.returncode == 1
    assert f"port {port}" in done.stderr and "--port" in done.stderr and "NNGRADE_PORT" in done.stderr
    assert not (tmp_path / "data" / "nngrade.sqlite3").exists()  # found before the database was touched


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
