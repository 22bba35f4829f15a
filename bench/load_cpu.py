"""CPU time per submission, split into HTTP, database, queue hand-off, sandbox and grading.

How it is measured (no timers inside the service, so nothing it does changes):

* the **totals** are read from the kernel over the measured window: the service process's
  ``utime + stime`` (``/proc/PID/stat``); the sandboxes' CPU from their cgroups
  (``cpuacct.usage`` of the pool's parent group, which keeps the time of sandboxes already
  removed); the zygote's and bwrap's own time from ``/proc``;
* the **service process's share** of each part comes from a py-spy profile of the same window
  (``py-spy record --format raw``, the service started under py-spy so that no ptrace attach
  is needed): each sample goes to the first category its stack matches from the leaf up,
  and the fractions are scaled to the process's measured CPU time.  Samples of start-up and
  shutdown (imports, migrations, the first pool fill, the lifespan) are left out, and so are
  samples of threads blocked in poll(), select() or a condition (``WAITS``).  A thread blocked
  elsewhere in a system call (an fsync in a commit, SQLite's busy wait) still counts as busy,
  so the database's share is an upper bound.

The sandbox part is the trusted side's proxy and channel code plus everything inside the
sandboxes (the student's functions, the sandbox runner's decoding) plus the zygote's forks.
"""

from __future__ import annotations

import glob
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

#: (category, path fragments) tried in this order on every frame, leaf first.
CATEGORIES = (
    ("database", ("sqlalchemy/", "sqlite3/", "psycopg/", "alembic/", "service/db/")),
    ("sandbox", ("service/sandbox/", "graders/framework/proxy", "graders/framework/channel")),
    ("queue hand-off", ("service/worker/", "service/api/waiting.py")),
    ("grading", ("graders/", "service/grading.py", "service/submission_file.py", "reference/", "exercises/")),
    ("HTTP", ("uvicorn/", "h11/", "httptools", "starlette/", "fastapi/", "pydantic", "anyio/", "asyncio/",
              "service/api/", "multipart/", "json/", "email/", "uvloop")),
)
PARTS = ("HTTP", "database", "queue hand-off", "sandbox", "grading", "other")
#: Leaf frames that block in poll(), select() or a condition: py-spy cannot always tell a thread waiting
#: in a system call from one that runs, and these wait for another process or thread by design.
WAITS = ("SandboxSession._wait (service/sandbox/session.py", "Condition.wait (threading.py", "Event.wait (threading.py",
         "Runner.run (asyncio/runners.py", "BaseSelector.select", "EpollSelector.select",
         "WorkerThread.run (anyio/")  # an idle thread of the request thread pool, in its queue's get()
#: Frames of start-up and shutdown, not of serving.
NOT_SERVING = ("importlib._bootstrap", "lifespan", "_start (service/api/app.py", "_stop (service/api/app.py",
               "Server.startup", "Server.shutdown", "upgrade (service/db/migrate.py")


def py_spy() -> str | None:
    """The py-spy beside this interpreter (the venv's), else on the PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def profiled_command(command: list[str], output: Path, rate: int = 200) -> list[str]:
    """``command`` run under ``py-spy record`` (sampling without pausing it), raw stacks to ``output``."""
    return [py_spy(), "record", "--nonblocking", "--rate", str(rate), "--format", "raw", "--output", str(output),
            "--", *command]


def categorize(raw: str) -> dict[str, int]:
    """Samples per part from py-spy's raw output (``frame;frame;… count``, root first)."""
    counts = dict.fromkeys(PARTS, 0)
    for line in raw.splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit() or any(marker in stack for marker in NOT_SERVING):
            continue
        if stack.rsplit(";", 1)[-1].startswith(WAITS):
            continue
        part = "other"
        for frame in reversed(stack.split(";")):
            found = next((name for name, fragments in CATEGORIES if any(f in frame for f in fragments)), None)
            if found:
                part = found
                break
        counts[part] += int(n)
    return counts


def _proc_cpu(process) -> float:
    t = process.cpu_times()
    return t.user + t.system


def _sandbox_groups(pid: int) -> list[Path]:
    from service.sandbox.cgroups import TOP, own_hierarchies

    base = own_hierarchies().get("cpuacct")
    return [Path(p) for p in glob.glob(str(base / TOP / f"pool-{pid}-*"))] if base else []


@dataclass
class CpuSnapshot:
    service: float
    sandboxes: float | None  # None without cgroups
    helpers: dict[int, float]  # bwrap, zygote: pid -> CPU seconds


def snapshot(pid: int) -> CpuSnapshot:
    import psutil  # the bench extra; the judgements above need nothing beyond the standard library

    process = psutil.Process(pid)
    groups = _sandbox_groups(pid)
    sandboxes = sum(int((g / "cpuacct.usage").read_text()) for g in groups) / 1e9 if groups else None
    helpers = {}
    for child in process.children(recursive=True):
        try:
            if "/sb-" not in Path(f"/proc/{child.pid}/cgroup").read_text():  # not a sandbox's own process
                helpers[child.pid] = _proc_cpu(child)
        except (OSError, psutil.Error):
            pass
    return CpuSnapshot(_proc_cpu(process), sandboxes, helpers)


def split(before: CpuSnapshot, after: CpuSnapshot, samples: dict[str, int], submissions: int) -> dict[str, float]:
    """Milliseconds of CPU per submission for each part, and ``total``."""
    service = after.service - before.service
    counted = sum(samples.values()) or 1
    per = {part: service * samples[part] / counted for part in PARTS}
    inside = (after.sandboxes - before.sandboxes) if after.sandboxes is not None and before.sandboxes is not None \
        else 0.0
    # The long-lived helpers (bwrap, zygote) only; keepers that came and went are in the cgroups.
    helpers = sum(after.helpers[p] - before.helpers[p] for p in after.helpers.keys() & before.helpers.keys())
    per["sandbox"] += inside + helpers
    per = {k: v * 1000 / max(1, submissions) for k, v in per.items()}
    per["total"] = sum(per.values())
    per["sandbox inside (cgroup)"] = inside * 1000 / max(1, submissions)
    return per
