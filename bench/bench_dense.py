"""Per-submission cost of grading `dense`: warm pool vs cold sandbox vs in-process.

Run:  .venv/bin/python bench/bench_dense.py [--n 300] [--cold-n 40] [--workers 2]

Prints p50/p95 latency per submission for each runner, the sandbox overhead at p50
(warm minus in-process), and the throughput of the warm pool with WORKERS concurrent
graders.  Visible and hidden cases both run (the server's grading), on the reference.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from graders.framework.proxy import InProcessRunner
from service.config import Settings
from service.grading import grade
from service.sandbox import ColdRunner, SandboxRunner

ROOT = Path(__file__).resolve().parents[1]
SOURCE = (ROOT / "reference" / "dense.py").read_text()


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def run(label: str, runner, n: int, settings: Settings) -> list[float]:
    times = []
    short = 0
    for i in range(n):
        t = time.perf_counter()
        report = grade("dense", SOURCE, include_hidden=True, seed=i, runner=runner, settings=settings)
        times.append((time.perf_counter() - t) * 1000)
        short += report.score != report.max_score
    print(f"{label:<12} n={n:<4} p50={pct(times, .5):7.2f} ms  p95={pct(times, .95):7.2f} ms  "
          f"({1000 / statistics.mean(times):6.1f} submissions/s, one at a time)"
          + (f"  [{short} reports short of full marks: {report.diagnoses}]" if short else ""))
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--cold-n", type=int, default=40)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    settings = Settings()
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")

    inproc = run("in-process", InProcessRunner(), args.n, settings)
    warm_runner = SandboxRunner(pool_size=max(2, args.workers))
    warm_runner.start()
    time.sleep(0.5)
    warm = run("warm pool", warm_runner, args.n, settings)
    cold_runner = ColdRunner(pool_size=0)
    cold = run("cold", cold_runner, args.cold_n, settings)
    cold_runner.close()
    print(f"isolation: {', '.join(warm_runner.isolation)}")
    print(f"sandbox overhead at p50: warm {pct(warm, .5) - pct(inproc, .5):.2f} ms, "
          f"cold {pct(cold, .5) - pct(inproc, .5):.2f} ms per submission")

    def one(i: int) -> float:
        t = time.perf_counter()
        grade("dense", SOURCE, include_hidden=True, seed=i, runner=warm_runner, settings=settings)
        return time.perf_counter() - t

    t = time.perf_counter()
    with ThreadPoolExecutor(args.workers) as ex:
        lat = list(ex.map(one, range(args.n)))
    wall = time.perf_counter() - t
    print(f"throughput: {args.n / wall:.1f} graded submissions/s through the warm pool with {args.workers} workers "
          f"(p50 {pct(lat, .5) * 1000:.1f} ms, p95 {pct(lat, .95) * 1000:.1f} ms under load)")
    warm_runner.close()


if __name__ == "__main__":
    main()
