"""A storage outage under a running service (issue 11 section 2): the SQLite data directory and its
database stop taking writes, then come back.  While they are down, submissions are refused with
503 ``storage-unavailable`` and Retry-After and ``/readyz`` is not ready; once they are back the
service recovers by itself, and nothing it accepted is lost.

The outage is the ext4 *immutable* attribute (``chattr +i``), set on the data directory, the
database file and its WAL.  Unlike ``chmod``, it stops root, and it stops writes through file
descriptors that are already open (every pooled SQLite connection), so it is a real outage for
a service running as root, as here.  The ``-shm`` file is left alone: SQLite maps it into memory,
and a write to a mapping of an immutable file is a SIGBUS, not an I/O error.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

REFERENCE = pathlib.Path(__file__).resolve().parents[3] / "reference" / "dense.py"
SLOW = REFERENCE.read_text() + "\nimport time\ntime.sleep(0.5)\n"  # correct; sleeping costs no CPU time
BURST = 12  # more than the pool keeps (8)
OUTAGE_SECONDS = 8  # longer than two leases (lease_seconds 3): the keeper's renewals fail too


def frozen_paths(data_dir: pathlib.Path) -> list[pathlib.Path]:
    db = data_dir / "nngrade.sqlite3"
    return [p for p in (data_dir, db, db.with_name(db.name + "-wal")) if p.exists()]


def chattr(flag: str, paths: list[pathlib.Path]) -> subprocess.CompletedProcess:
    return subprocess.run(["chattr", flag, *map(str, paths)], capture_output=True, text=True)


@pytest.fixture
def immutable_supported(tmp_path) -> None:
    probe = tmp_path / "probe"
    probe.write_text("x")
    done = chattr("+i", [probe])
    if done.returncode != 0:
        pytest.skip(f"needs root on a filesystem with the immutable attribute (chattr +i: {done.stderr.strip()})")
    chattr("-i", [probe])


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_storage_outage_answers_503_then_the_service_recovers_by_itself(start_service, immutable_supported):
    svc = start_service(workers=1, rate_limit=0)
    ada = svc.api(svc.token("student", "ada"))
    anonymous = svc.api()
    before = [ada.accepted("dense", source=SLOW, filename=f"before{i}.py") for i in range(4)]
    paths = frozen_paths(pathlib.Path(svc.settings["data_dir"]))
    assert os.geteuid() == 0 and len(paths) == 3, paths
    refused = []
    try:
        assert chattr("+i", paths).returncode == 0
        outage_ends = time.monotonic() + OUTAGE_SECONDS
        while time.monotonic() < outage_ends:
            # concurrent requests make the pool open new connections, which SQLite opens read-only now
            with ThreadPoolExecutor(BURST) as burst:
                refused += burst.map(lambda _: ada.submit("dense", REFERENCE), range(BURST))
            time.sleep(0.5)
        ready = anonymous.get("/readyz")
        assert ready.status_code == 503 and not ready.json()["checks"]["database"]["ok"]
        assert "cannot write" in ready.json()["checks"]["database"]["detail"]
        assert anonymous.get("/healthz").status_code == 200
    finally:
        chattr("-i", paths)
    assert {r.status_code for r in refused} == {503}, [r.text for r in refused if r.status_code != 503]
    assert {r.json()["code"] for r in refused} == {"storage-unavailable"}
    assert all(int(r.headers["Retry-After"]) >= 1 for r in refused)

    deadline = time.monotonic() + 60  # no restart: the same process takes writes again
    while anonymous.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, anonymous.get("/readyz").text + svc.log[-3000:]
        time.sleep(0.2)
    # one after the other: each request takes the next pooled connection, so every one is tried
    after = [ada.accepted("dense", source=SLOW if i < 2 else REFERENCE.read_text(), filename=f"after{i}.py")
             for i in range(2 * BURST)]
    for sid in before + after:
        body = ada.wait(sid)
        assert body["status"] == "done", body
        assert body["report"]["score"] == body["report"]["max_score"], body["report"]
        history = ada.get(f"/api/v1/submissions/{sid}/reports").json()
        assert sum(h["current"] for h in history) == 1
    listed = ada.get("/api/v1/submissions", params={"limit": 100}).json()["items"]
    assert sorted(i["id"] for i in listed) == sorted(before + after)  # nothing lost, nothing extra
    assert svc.proc.poll() is None and svc.starts == 1
