"""The two baselines of the load generator, graded from the same reference sources.

* **floor**: :func:`service.grading.grade` in this process with the in-process runner: no
  sandbox, no HTTP, no database.  Nothing that grades the same checks can be faster.
* **naive**: a fresh ``python`` per submission that imports NumPy and the graders and runs the
  same checks in-process (no sandbox either), as a process-per-submission grader does; as many
  at once as the machine has cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from load_client import ROOT, SOURCES, pct

NAIVE = """
import sys
import numpy
from graders.framework.proxy import InProcessRunner
from service.grading import grade
report = grade(sys.argv[1], open(sys.argv[2]).read(), include_hidden=True, runner=InProcessRunner())
sys.exit(0 if report.score == report.max_score else 1)
"""


def floor(exercise: str, n: int) -> dict:
    """p50 and one-at-a-time rate of grading in this process, no isolation."""
    from graders.framework.proxy import InProcessRunner
    from service.grading import grade

    runner, source = InProcessRunner(), SOURCES[exercise].decode()
    grade(exercise, source, include_hidden=True, runner=runner)  # caches: the references, stored outputs
    times = []
    for seed in range(n):
        t = time.perf_counter()
        report = grade(exercise, source, include_hidden=True, seed=seed, runner=runner)
        times.append(time.perf_counter() - t)
        if report.score != report.max_score:
            raise RuntimeError(f"the reference of {exercise} lost points in-process: {report.diagnoses}")
    return {"p50": pct(times, 0.5), "per_second": len(times) / sum(times)}


def _naive_one(exercise: str) -> float:
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", NAIVE, exercise, str(ROOT / "reference" / f"{exercise}.py")],
                          cwd=ROOT, capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"the naive grader failed on {exercise}: {done.stderr.decode()[-1000:]}")
    return time.perf_counter() - t


def naive(exercise: str, n: int) -> dict:
    """p50 one at a time (``n`` runs) and throughput with one process per core (``2n`` runs)."""
    alone = [_naive_one(exercise) for _ in range(n)]
    cores = os.cpu_count() or 1
    t = time.perf_counter()
    with ThreadPoolExecutor(cores) as pool:
        list(pool.map(_naive_one, [exercise] * (2 * n)))
    return {"p50": pct(alone, 0.5), "per_second": 2 * n / (time.perf_counter() - t)}
