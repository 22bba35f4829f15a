"""One cgroup per sandbox: CPU time read from outside, a fair share of the CPU, a process cap.

A submission can start ``setsid()`` children that outlive every per-process limit and spin
beside a correct submission graded at the same time.  With cgroups (v1 ``cpu``, ``cpuacct``
and ``pids`` hierarchies, writable: the service runs as root), each sandbox gets its own
group under ``<the service's cgroup>/nngrade/pool-<pid>-<start time>-<n>/sb-<n>``:

* ``cpu.shares`` equal for every sandbox and ``cpu.cfs_quota_us`` of one core: a sandbox
  cannot take more than its share, however many processes it starts;
* ``cpuacct.usage``: the CPU time of everything in the sandbox (keeper, runner, every
  child, reaped or not), read by the trusted side before and after each call;
* ``pids.max``: a cap on its tasks that holds even without a user namespace of its own.

The trusted side moves a sandbox's keeper into its group before the runner is forked
(``Sandbox.attach``), so nothing the submission starts is ever outside it.  A group is
removed once its processes have died (:meth:`CgroupTree.reap`); a pool's whole tree when
the pool closes; and the trees of services that died (their pid is gone, or now belongs to
a process that started later) at the next start.

Without writable v1 hierarchies (not root, cgroup v2 only, a container without them),
:meth:`CgroupTree.create` returns ``None`` with the reason, and the sandbox measures the
runner's CPU time from ``/proc`` instead (see ``docs/security.md``).
"""

from __future__ import annotations

import errno
import itertools
import os
import signal
import threading
import time
from pathlib import Path

CONTROLLERS = ("cpu", "cpuacct", "pids")
TOP = "nngrade"
#: Tasks (processes and threads) of one sandbox: above the service's cap of 64 processes,
#: plus its keeper and runner.
PIDS_MAX = 80
CPU_SHARES = 1024
CPU_PERIOD_US = 100_000
_pools = itertools.count(1)


def _start_time(pid: int) -> str | None:
    """Field 22 of ``/proc/PID/stat``: tells a live process from a later one with a reused pid."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2:].split()[19]


def own_hierarchies() -> dict[str, Path]:
    """controller -> this process's own cgroup directory in that controller's v1 hierarchy."""
    own: dict[str, str] = {}
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                _, names, path = line.rstrip("\n").split(":", 2)
                for name in names.split(","):
                    own[name] = path
        with open("/proc/self/mountinfo") as f:
            mounts = f.read().splitlines()
    except OSError:
        return {}
    found: dict[str, Path] = {}
    for line in mounts:
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3 or tail[0] != "cgroup":
            continue
        mount_root, mountpoint = fields[3], fields[4].replace("\\040", " ")
        for name in tail[2].split(","):
            if name in CONTROLLERS and name in own and name not in found:
                rel = os.path.relpath(own[name], mount_root)
                if not rel.startswith(".."):
                    found[name] = Path(mountpoint) / rel
    return found


def _write(path: Path, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _tasks(directory: Path) -> list[int]:
    try:
        with open(directory / "cgroup.procs") as f:
            return [int(x) for x in f.read().split()]
    except (OSError, ValueError):
        return []


def _remove(directories: list[Path], *, kill: bool) -> bool:
    """rmdir each group (killing what is still in it if ``kill``); True once all are gone."""
    gone = True
    for directory in directories:
        if kill:
            for pid in _tasks(directory):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        try:
            os.rmdir(directory)
        except FileNotFoundError:
            pass
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                raise
            gone = False
    return gone


def _remove_waiting(directories: list[Path], timeout: float, grace: float = 0.0) -> bool:
    """Remove the groups, giving their processes ``grace`` seconds to end by themselves (a keeper
    removes its working directory on the way out) before killing what is left."""
    start = time.monotonic()
    while not _remove(directories, kill=time.monotonic() - start >= grace):
        if time.monotonic() - start > timeout:
            return False
        time.sleep(0.02)
    return True


class SandboxCgroup:
    """The groups of one sandbox (one directory per hierarchy)."""

    def __init__(self, tree: "CgroupTree", directories: dict[str, Path]):
        self.tree = tree
        self.directories = directories
        self._usage: int | None = None  # cpuacct.usage, kept open: read before and after every call

    def _unique(self) -> list[Path]:
        return list(dict.fromkeys(self.directories.values()))

    def add(self, pid: int) -> None:
        """Move process ``pid`` (a keeper, before it forks its runner) into every group."""
        for directory in self._unique():
            _write(directory / "cgroup.procs", str(pid))

    def cpu_seconds(self) -> float:
        """CPU time of every task that ever ran in the group, in seconds."""
        if self._usage is None:
            self._usage = os.open(self.directories["cpuacct"] / "cpuacct.usage", os.O_RDONLY | os.O_CLOEXEC)
        return int(os.pread(self._usage, 32, 0)) / 1e9  # the kernel renders the file afresh at offset 0

    def close_usage(self) -> None:
        if self._usage is not None:
            os.close(self._usage)
            self._usage = None

    def release(self) -> None:
        """The sandbox was closed: remove the group as soon as its processes are gone."""
        self.close_usage()
        self.tree.release(self)


class CgroupTree:
    """A pool's cgroups: one parent group per hierarchy, and a child group per sandbox."""

    def __init__(self, directories: dict[str, Path]):
        self.directories = directories
        self._count = itertools.count(1)
        self._pending: list[SandboxCgroup] = []
        self._live: set[SandboxCgroup] = set()
        self._lock = threading.Lock()

    @classmethod
    def create(cls) -> tuple["CgroupTree | None", str]:
        """A new tree for one pool (removing the stale trees of dead services first), or why not."""
        if os.geteuid() != 0:
            return None, "the service does not run as root"
        hierarchies = own_hierarchies()
        missing = [c for c in CONTROLLERS if c not in hierarchies]
        if missing:
            return None, f"no cgroup v1 hierarchy for {', '.join(missing)}"
        unwritable = [c for c, d in hierarchies.items() if not os.access(d, os.W_OK)]
        if unwritable:
            return None, f"the cgroup v1 hierarchy of {', '.join(unwritable)} is read-only"
        clean_stale(hierarchies)
        name = f"pool-{os.getpid()}-{_start_time(os.getpid())}-{next(_pools)}"
        directories: dict[str, Path] = {}
        try:
            for controller, base in hierarchies.items():
                (base / TOP).mkdir(exist_ok=True)
                (base / TOP / name).mkdir(exist_ok=True)  # cpu and cpuacct may share a hierarchy
                directories[controller] = base / TOP / name
        except OSError as exc:
            _remove(list(dict.fromkeys(directories.values())), kill=False)
            return None, f"cannot create cgroups: {exc}"
        return cls(directories), ""

    def sandbox(self) -> SandboxCgroup:
        """A new, empty group for one sandbox, with its share, CPU cap and pids limit set."""
        self.reap()
        name = f"sb-{next(self._count)}"
        directories = {c: d / name for c, d in self.directories.items()}
        group = SandboxCgroup(self, directories)
        try:
            for directory in group._unique():
                directory.mkdir()
            cpu = directories["cpu"]
            _write(cpu / "cpu.shares", str(CPU_SHARES))
            try:
                _write(cpu / "cpu.cfs_period_us", str(CPU_PERIOD_US))
                _write(cpu / "cpu.cfs_quota_us", str(CPU_PERIOD_US))  # at most one core
            except OSError:  # a kernel without CFS bandwidth control: shares alone
                pass
            _write(directories["pids"] / "pids.max", str(PIDS_MAX))
        except OSError:
            _remove(group._unique(), kill=False)
            raise
        with self._lock:
            self._live.add(group)
        return group

    def release(self, group: SandboxCgroup) -> None:
        with self._lock:
            self._live.discard(group)
            self._pending.append(group)
        self.reap()

    def reap(self) -> None:
        """Remove the groups of closed sandboxes whose processes have all ended."""
        with self._lock:
            pending, self._pending = self._pending, []
        still = [g for g in pending if not _remove(g._unique(), kill=False)]
        with self._lock:
            self._pending += still

    def close(self, timeout: float = 5.0, grace: float = 2.0) -> bool:
        """Remove the pool's groups, killing what is left in them after ``grace`` seconds; True if none remains."""
        with self._lock:
            groups = list(self._live) + self._pending
            self._live.clear()
            self._pending = []
        for group in groups:
            group.close_usage()
        children = [d for g in groups for d in g._unique()]
        done = _remove_waiting(children, timeout, grace)
        return _remove_waiting(list(dict.fromkeys(self.directories.values())), 1.0) and done


def clean_stale(hierarchies: dict[str, Path] | None = None) -> list[Path]:
    """Remove the pool trees of services that are no longer running; returns what was removed."""
    hierarchies = own_hierarchies() if hierarchies is None else hierarchies
    removed = []
    for base in dict.fromkeys(hierarchies.values()):
        top = base / TOP
        try:
            pools = [p for p in top.iterdir() if p.is_dir() and p.name.startswith("pool-")]
        except OSError:
            continue
        for pool in pools:
            parts = pool.name.split("-")
            if len(parts) >= 3 and parts[1].isdigit() and _start_time(int(parts[1])) == parts[2]:
                continue  # its service still runs
            children = [c for c in pool.iterdir() if c.is_dir()]
            if _remove_waiting(children, 2.0) and _remove([pool], kill=False):
                removed.append(pool)
    return removed
