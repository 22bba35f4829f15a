"""Throughput of the Celery topology: one API process and N ``nngrade worker`` processes.

Run:  .venv/bin/python bench/bench_scaleout.py [--n 600] [--workers 1 2] [--concurrency 1 2] [--exercise dense|mix]

Needs the machine's PostgreSQL (127.0.0.1:5432, trust auth) and RabbitMQ (guest/guest); each
configuration gets a fresh database and vhost, removed afterwards.  For every configuration it
submits N correct submissions (the references: ``dense`` only, or ``mix``, the five exercises in
turn) from 50 students as fast as 16 client threads can, and prints graded submissions per
second (first acceptance to last report), the p50/p95 of upload → report, and the core-seconds
one grading costs (workers' cores / throughput), the figure the sizing guide in
docs/deployment.md starts from.  It fails loudly if a report is missing or below full marks.  Everything stays on loopback; the run is bounded by N.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import sqlalchemy as sa

from serving import free_port, stop, wait_healthy  # the script's folder is on sys.path

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ("dense", "lora", "toeplitz", "attention", "two_layer")
SOURCES = {ex: (ROOT / "reference" / f"{ex}.py").read_bytes() for ex in EXERCISES}
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=60)


def run_config(workers: int, concurrency: int, n: int, exercise: str) -> dict:
    name = f"nngrade_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    vhost = f"nngrade-bench-{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    port = free_port()
    work = Path(tempfile.mkdtemp(prefix="nngrade-bench-"))
    env = {**os.environ, "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
           "NNGRADE_BROKER_URL": f"amqp://guest:guest@127.0.0.1:5672/{vhost}", "NNGRADE_PORT": str(port),
           "NNGRADE_RATE_LIMIT": "0", "NNGRADE_LOG_LEVEL": "warning", "NNGRADE_DATA_DIR": str(work)}
    procs = [subprocess.Popen([sys.executable, "-m", "nngrade", "serve"], env=env, cwd=work,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    base = f"http://127.0.0.1:{port}"
    try:
        if not wait_healthy(base):
            raise SystemExit("nngrade serve did not start")
        for _ in range(workers):
            procs.append(subprocess.Popen([sys.executable, "-m", "nngrade", "worker", "-c", str(concurrency)],
                                          env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for _ in range(600):
            ready = httpx.get(base + "/readyz", timeout=5).json()["checks"].get("workers", {}).get("detail", "")
            if ready.startswith(f"{workers} worker process"):
                break
            time.sleep(0.1)
        tokens = []
        for i in range(50):
            made = subprocess.run([sys.executable, "-m", "nngrade", "token", "create", "--role", "student",
                                   "--name", f"s{i}"], env=env, cwd=work, capture_output=True, text=True, check=True)
            tokens.append(made.stdout.strip().splitlines()[-1])
        clients = [httpx.Client(base_url=base + "/api/v1", headers={"Authorization": f"Bearer {t}"}, timeout=120)
                   for t in tokens]
        latencies: list[float] = []
        short: list[str] = []

        def one(i: int) -> None:
            client = clients[i % len(clients)]
            ex = exercise if exercise != "mix" else EXERCISES[i % len(EXERCISES)]
            t = time.perf_counter()
            sid = client.post("/submissions", data={"exercise": ex},
                              files={"file": (f"{ex}.py", SOURCES[ex])}).json()["id"]
            while (got := client.get(f"/submissions/{sid}", params={"wait": 30}).json())["status"] not in (
                    "done", "failed"):
                pass
            latencies.append(time.perf_counter() - t)
            report = got.get("report") or {}
            if got["status"] != "done" or report.get("score") != report.get("max_score"):
                short.append(f"{ex} #{sid}: {got['status']} {report.get('score')}/{report.get('max_score')}")

        start = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(one, range(n)))
        elapsed = time.perf_counter() - start
        for c in clients:
            c.close()
        if short or len(latencies) != n:
            raise SystemExit(f"{len(latencies)} of {n} graded; below full marks: {short[:10]}")
        return {"workers": workers, "concurrency": concurrency, "n": n, "per_second": n / elapsed,
                "p50_ms": pct(latencies, 0.5) * 1000, "p95_ms": pct(latencies, 0.95) * 1000,
                "mean_ms": statistics.mean(latencies) * 1000}
    finally:
        stop(reversed(procs))  # the workers first, then the API
        rabbitmqctl("delete_vhost", vhost)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--exercise", choices=[*EXERCISES, "mix"], default="dense")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"# {platform.node()} {cores} cores, Python {platform.python_version()}, n={args.n}, {args.exercise}")
    print("| worker processes | threads each | graded/s | p50 upload→report | p95 | core-s per grading |")
    print("|---|---|---|---|---|---|")
    for w in args.workers:
        for c in args.concurrency:
            r = run_config(w, c, args.n, args.exercise)
            # The graders use at most min(w*c, cores) cores; the API, PostgreSQL and RabbitMQ share them.
            busy = min(w * c, cores)
            print(f"| {w} | {c} | {r['per_second']:.1f} | {r['p50_ms']:.0f} ms | {r['p95_ms']:.0f} ms "
                  f"| {busy / r['per_second']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
