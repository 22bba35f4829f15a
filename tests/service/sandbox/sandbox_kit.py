"""What the attack suite checks on the host after every hostile submission.

The sandbox must keep everything of the host away from student code.  To prove it, the
suite gives the host things worth stealing or breaking, then looks at them after each
attack:

* secrets: an environment variable and a ``DATABASE_URL`` set in this process before the
  pool starts, a marker in a root-only file, a marker in a database file under a
  world-readable data directory, and the first lines of the reference and the grader;
  none may appear anywhere in a report;
* files: every path an attack writes to carries the module's token in its name; no
  such name may appear in the host directories the attacks target, and the files the
  sandbox maps read-only (the runner, NumPy) keep their contents;
* processes: after the pool has refilled, the zygote is the same process and holds
  exactly its ready sandboxes (a keeper with one runner each, the runner childless);
  no orphan of the sandbox uid and no process with the attack's tag runs anywhere; a
  process of the sandbox uid outside the sandbox (the sentinel) is still alive;
* services: TCP and unix-socket servers opened by the test received no connection;
* the grader still answers: the reference gets full marks through the same pool.

Processes are read from ``/proc`` (Linux), never through a mock.  :class:`Attack` grades an
attack file (``attacks/<name>.py``, its placeholders filled in) and runs all these checks; the
fixtures ``host``, ``sandbox`` and ``attack`` at the end of this module provide them to tests.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
ATTACKS = pathlib.Path(__file__).resolve().parent / "attacks"
#: The host uid of sandboxed code: 65534 when the service runs as root, else the service's own.
SANDBOX_UID = 65534 if os.geteuid() == 0 else os.getuid()
SANDBOX_GID = 65534 if os.geteuid() == 0 else os.getgid()
#: Keyword arguments of Popen that start a process as the sandbox uid (outside any sandbox).
AS_SANDBOX_UID = {"user": SANDBOX_UID, "group": SANDBOX_GID, "extra_groups": []} if os.geteuid() == 0 else {}
#: The layers the report must list on this machine (bubblewrap, user namespaces, libseccomp).
FULL_LAYERS = {"bwrap", "namespaces", "tmpfs", "rlimits", "no-capabilities", "no-new-privs", "seccomp"}
SETTLE_SECONDS = 15.0
WORLD_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm")


# --------------------------------------------------------------------------- /proc


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    uid: int
    state: str
    comm: str
    cmdline: str

    def __str__(self) -> str:
        return f"{self.pid} (ppid {self.ppid}, uid {self.uid}, {self.state}) {self.comm}: {self.cmdline[:120]}"


def processes() -> dict[int, Proc]:
    """Every process of the host, read from ``/proc`` (those that vanish meanwhile are skipped)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
            with open(f"/proc/{entry}/status", "rb") as f:
                status = f.read().decode(errors="replace")
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1: stat.rindex(")")]
        state, ppid = stat[stat.rindex(")") + 2:].split()[:2]
        uid = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("Uid:"))
        found[int(entry)] = Proc(int(entry), int(ppid), uid, state, comm, cmdline)
    return found


def children_of(procs: dict[int, Proc]) -> dict[int, list[Proc]]:
    tree: dict[int, list[Proc]] = {}
    for p in procs.values():
        tree.setdefault(p.ppid, []).append(p)
    return tree


def subtree(procs: dict[int, Proc], root: int) -> list[Proc]:
    tree = children_of(procs)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in procs:
            out.append(procs[pid])
        todo.extend(c.pid for c in tree.get(pid, []))
    return out


def zygote_pid(runner) -> int | None:
    zygote = runner.pool._zygote
    return zygote.process.pid if zygote is not None and zygote.process is not None else None


def pool_problems(runner, procs: dict[int, Proc]) -> list[str]:
    """Why the pool's process tree is not exactly zygote + ready sandboxes (empty when it is)."""
    top = zygote_pid(runner)
    if top is None or top not in procs:
        return ["the zygote is not running"]
    tree = children_of(procs)
    node = procs[top]
    while node.comm == "bwrap":  # bubblewrap's own processes above the zygote
        kids = [k for k in tree.get(node.pid, []) if k.state != "Z"]
        if len(kids) != 1:
            return [f"bubblewrap process {node} has {len(kids)} children"]
        node = kids[0]
    keepers = [k for k in tree.get(node.pid, []) if k.state != "Z"]
    problems = []
    if len(keepers) != runner.pool.size:
        problems.append(f"{len(keepers)} keepers under the zygote, the pool holds {runner.pool.size}")
    for keeper in keepers:
        runners = [r for r in tree.get(keeper.pid, []) if r.state != "Z"]
        if len(runners) != 1:
            problems.append(f"keeper {keeper.pid} has {len(runners)} children")
        for r in runners:
            extra = [c for c in subtree(procs, r.pid) if c.pid != r.pid]
            if extra:
                problems.append(f"ready runner {r.pid} has descendants: {', '.join(map(str, extra))}")
    return problems


# --------------------------------------------------------------------------- the host's bait


class ConnectionCounter:
    """A listening socket (TCP on loopback, or unix) that counts the connections it accepts."""

    def __init__(self, family: int, address):
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        if family == socket.AF_INET:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(address)
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.address = self.sock.getsockname()
        self.accepted = 0
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop = True
        self._thread.join(timeout=2)
        self.sock.close()


def digest(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Host:
    """Everything of the host that the attacks go after, and the checks that it is untouched."""

    token: str
    secret: str
    db_marker: str
    file_marker: str
    workdir: pathlib.Path           # root-only directory with the secret file
    data_dir: pathlib.Path          # world-readable, like a default data directory
    sentinel: subprocess.Popen      # a process of the sandbox uid outside any sandbox
    tcp: ConnectionCounter
    unix: ConnectionCounter
    abstract: ConnectionCounter
    protected: dict[pathlib.Path, str] = field(default_factory=dict)
    reference_text: list[str] = field(default_factory=list)
    shadow_text: str = ""

    @classmethod
    def create(cls) -> "Host":
        token = uuid.uuid4().hex[:12]
        secret = "nngrade-secret-" + uuid.uuid4().hex
        workdir = pathlib.Path(f"/tmp/nngrade-hostonly-{token}")
        workdir.mkdir(mode=0o700)
        file_marker = "host-only-" + uuid.uuid4().hex
        (workdir / "secret.txt").write_text(file_marker)
        os.chmod(workdir / "secret.txt", 0o600)
        data_dir = pathlib.Path(f"/tmp/nngrade-data-{token}")
        data_dir.mkdir(mode=0o755)
        db_marker = "db-row-" + uuid.uuid4().hex
        (data_dir / "nngrade.sqlite3").write_text("SQLite format 3\0" + db_marker)
        os.chmod(data_dir / "nngrade.sqlite3", 0o644)
        sentinel = subprocess.Popen(["sleep", "3600"], **AS_SANDBOX_UID,
                                    start_new_session=True, stdin=subprocess.DEVNULL)
        tcp = ConnectionCounter(socket.AF_INET, ("127.0.0.1", 0))
        unix = ConnectionCounter(socket.AF_UNIX, str(workdir / "service.sock"))
        abstract = ConnectionCounter(socket.AF_UNIX, f"\0nngrade-{token}")
        host = cls(token=token, secret=secret, db_marker=db_marker, file_marker=file_marker, workdir=workdir,
                   data_dir=data_dir, sentinel=sentinel, tcp=tcp, unix=unix, abstract=abstract)
        for rel in ("reference/dense.py", "graders/dense.py", "service/sandbox/child.py",
                    "graders/framework/execution.py", "exercises/dense/visible.npz"):
            host.protected[ROOT / rel] = digest(ROOT / rel)
        import numpy

        for runtime_file in (pathlib.Path(numpy.__file__), pathlib.Path(os.__file__).resolve()):
            host.protected[runtime_file] = digest(runtime_file)  # the sandbox sees (links to) both
        # Text only the host has: the first line of the reference and of the grader, and a
        # line of the reference's own helper (none of it is in the statement or the starter).
        for rel in ("reference/dense.py", "graders/dense.py"):
            host.reference_text.append((ROOT / rel).read_text().splitlines()[0].strip('"'))
        host.reference_text += [line.strip() for line in (ROOT / "reference/dense.py").read_text().splitlines()
                                if "should have shape" in line]
        try:
            root_line = next(line for line in pathlib.Path("/etc/shadow").read_text().splitlines()
                             if line.startswith("root:"))
            host.shadow_text = root_line.split(":")[1] if len(root_line.split(":")[1]) > 3 else root_line
        except (OSError, StopIteration):
            host.shadow_text = ""
        return host

    # -------------------------------------------------------------- placeholders

    def placeholders(self) -> dict[str, str]:
        """What an attack file may name: paths and ports, never the secret values themselves."""
        return {
            "__TOKEN__": self.token,
            "__MARKER__": f"nngrade-attack-{self.token}",
            "__REPO__": str(ROOT),
            "__DATA_DIR__": str(self.data_dir),
            "__HOME__": os.path.expanduser("~"),
            "__SECRET_FILE__": str(self.workdir / "secret.txt"),
            "__HOST_PID__": str(os.getpid()),
            "__SENTINEL_PID__": str(self.sentinel.pid),
            "__PORT__": str(self.tcp.address[1]),
            "__UNIX_SOCKET__": str(self.unix.address),
            "__ABSTRACT_SOCKET__": f"nngrade-{self.token}",
        }

    def target_dirs(self) -> list[pathlib.Path]:
        home = pathlib.Path(os.path.expanduser("~"))
        return [pathlib.Path("/tmp"), pathlib.Path("/var/tmp"), pathlib.Path("/dev/shm"), ROOT, ROOT / "reference",
                ROOT / "graders", self.data_dir, self.workdir, home, pathlib.Path.cwd()]

    # -------------------------------------------------------------- checks

    def leaked(self, text: str) -> list[str]:
        """The host's secrets found in ``text``."""
        secrets = [self.secret, self.db_marker, self.file_marker, *self.reference_text]
        if self.shadow_text:
            secrets.append(self.shadow_text)
        return [s for s in secrets if s and s in text]

    def written(self, *, shared_tmp: bool = True) -> list[str]:
        """Files with the token in their name in the directories attacks write to (``shared_tmp``:
        the world-writable ones too, which only a mount namespace keeps from the sandbox)."""
        found = []
        for directory in self.target_dirs():
            if not shared_tmp and str(directory) in WORLD_WRITABLE:
                continue
            try:
                names = os.listdir(directory)
            except OSError:
                continue
            found += [str(directory / n) for n in names if f"nngrade-attack-{self.token}" in n]
        return found

    def changed(self) -> list[str]:
        return [str(p) for p, h in self.protected.items() if not p.exists() or digest(p) != h]

    def close(self) -> None:
        for server in (self.tcp, self.unix, self.abstract):
            server.close()
        if self.sentinel.poll() is None:
            self.sentinel.kill()
        self.sentinel.wait(timeout=10)
        import shutil

        shutil.rmtree(self.workdir, ignore_errors=True)
        shutil.rmtree(self.data_dir, ignore_errors=True)
        for directory in WORLD_WRITABLE:  # what the degraded mode's attacks could write there
            for path in pathlib.Path(directory).glob(f"*nngrade-attack-{self.token}*"):
                path.unlink()


def stray_processes(before: set[int], tags: tuple[str, ...]) -> list[Proc]:
    """Processes started since ``before`` that escaped every sandbox: orphans of the sandbox uid
    running sandbox code, or anything carrying an attack's tag."""
    strays = []
    for p in processes().values():
        if p.pid in before or p.state == "Z":
            continue
        tagged = any(tag in p.comm or tag in p.cmdline for tag in tags)
        orphan = p.ppid == 1 and p.uid == SANDBOX_UID and "child.py" in p.cmdline
        if tagged or orphan:
            strays.append(p)
    return strays


def wait_for(predicate, timeout: float = SETTLE_SECONDS, interval: float = 0.05):
    """Poll ``predicate()`` (returning a list of problems) until it returns none; return the last problems."""
    deadline = time.monotonic() + timeout
    while True:
        problems = predicate()
        if not problems or time.monotonic() > deadline:
            return problems
        time.sleep(interval)


def exfil(report, case: str = "forward: small batch"):
    """What an attack carried out in the message of ``case`` (``EXFIL<<...>>EXFIL``), decoded."""
    import ast

    message = next(t.message for t in report.tests if t.name == case)
    assert "EXFIL<<" in message and ">>EXFIL" in message, message
    payload = message[message.index("EXFIL<<") + 7: message.index(">>EXFIL")]
    try:
        return json.loads(payload)
    except ValueError:
        return ast.literal_eval(payload)


# --------------------------------------------------------------------------- grading attacks

#: Limits for hostile code: 2 s of CPU, and 8 s of wall-clock time for the whole submission (one
#: budget, however many sandboxes its faults start), which also caps each call: a hang in a call
#: of dense ends within its own 2 s, leaving time for the cases after it.
FAST = {"max_wall_seconds": 8, "max_cpu_seconds": 2}
SEED = 20240611
REFERENCE = (ROOT / "reference" / "dense.py").read_text()
PRELUDE_LINE = "from _prelude import *  # noqa"
REFERENCE_LINE = "from _reference import *  # noqa"
FIRST_CASE = "forward: small batch"


def settings(**overrides):
    from service.config import Settings

    return Settings(**{**FAST, **overrides})


def start_runner(**kwargs):
    from service.sandbox import SandboxRunner

    runner = SandboxRunner(pool_size=2, **kwargs)
    runner.start()
    return runner


def attack_source(name: str, host: Host | None, *, exercise: str = "dense",
                  replace: dict[str, str] | None = None) -> str:
    """The submission ``attacks/<name>`` (``.py`` unless named) with the host's paths filled in, and its
    prelude (``from _prelude import *``: a correct dense layer; ``from _reference import *``: the
    exercise's reference, for attacks on one function of a larger exercise)."""
    path = ATTACKS / (name if "." in name else f"{name}.py")
    source = path.read_text()
    if PRELUDE_LINE in source:
        source = source.replace(PRELUDE_LINE, (ATTACKS / f"_prelude_{exercise}.py").read_text())
    if REFERENCE_LINE in source:
        reference = (ROOT / "reference" / f"{exercise}.py").read_text()
        source = source.replace(REFERENCE_LINE, reference.replace("from __future__ import annotations", ""))
    for key, value in {**(host.placeholders() if host is not None else {}), **(replace or {})}.items():
        source = source.replace(key, value)
    return source


class Attack:
    """Grades hostile submissions and checks the host afterwards."""

    def __init__(self, host: Host, runner):
        self.host = host
        self.runner = runner
        self.before = set(processes())
        self.zygote = zygote_pid(runner)
        self.checked = False
        self.tags: tuple[str, ...] = (f"nngrade-{host.token[:6]}",)

    def source(self, name: str, **kw) -> str:
        return attack_source(name, self.host, **kw)

    def __call__(self, name: str, *, exercise: str = "dense", source: str | None = None, include_hidden: bool = True,
                 filename: str = "submission.py", replace: dict[str, str] | None = None, runner=None, **limits):
        """Grade the attack (through this attack's sandbox unless another ``runner`` is given)."""
        from service.grading import grade

        source = self.source(name, exercise=exercise, replace=replace) if source is None else source
        return grade(exercise, source, filename=filename, include_hidden=include_hidden, seed=SEED,
                     runner=runner or self.runner, settings=settings(**limits))

    def host_untouched(self, *reports, full: bool = True) -> None:
        """Nothing leaked into the reports, nothing written, nothing left running, the grader answers.

        ``full=False`` (the degraded mode): the reports need not list every layer, and the world-writable
        directories (/tmp, /var/tmp, /dev/shm), which only a mount namespace hides, are not checked."""
        self.checked = True
        for report in reports:  # Report objects, or the text a command printed
            text = report if isinstance(report, str) else json.dumps(report.model_dump(mode="json"))
            assert not self.host.leaked(text), f"host secrets in the report: {self.host.leaked(text)}"
            if isinstance(report, str):
                continue
            assert report.status in ("graded", "rejected")
            if full and report.status == "graded":
                assert FULL_LAYERS <= set(report.isolation), report.isolation
        written = self.host.written(shared_tmp=full)
        assert not written, f"files written on the host: {written}"
        assert not self.host.changed(), f"host files changed: {self.host.changed()}"
        problems = wait_for(lambda: [str(p) for p in stray_processes(self.before, self.tags)])
        assert not problems, f"processes escaped the sandbox: {problems}"
        problems = wait_for(lambda: pool_problems(self.runner, processes()))
        assert not problems, f"the pool's processes are not as they should be: {problems}"
        assert zygote_pid(self.runner) == self.zygote, "the attack took the zygote down"
        assert self.host.sentinel.poll() is None, "a process of the sandbox uid outside the sandbox was killed"
        assert (self.host.tcp.accepted, self.host.unix.accepted, self.host.abstract.accepted) == (0, 0, 0), \
            "a host service received a connection from the sandbox"
        self.reference_full_marks()

    def first_case_only(self, report, code: str, outcome: str = "error") -> None:
        """The first visible case ("forward: small batch", where the attacks strike) ends in ``code``;
        every other case, each run after it in a fresh sandbox, passes."""
        assert report.status == "graded"
        first, *rest = report.tests
        assert first.name == FIRST_CASE
        assert (first.outcome, first.diagnoses, first.score) == (outcome, [code], 0.0), first
        failed = [(t.name, t.outcome, t.message[:200]) for t in rest if t.outcome != "pass"]
        assert not failed, failed
        assert report.score == report.max_score - first.max_score
        assert report.diagnoses == [code]

    def reference_full_marks(self) -> None:
        from service.grading import grade

        report = grade("dense", REFERENCE, include_hidden=True, seed=SEED, runner=self.runner,
                       settings=settings(max_wall_seconds=30, max_cpu_seconds=30))
        assert report.score == report.max_score, [(t.name, t.message) for t in report.tests if t.outcome != "pass"]


# --------------------------------------------------------------------------- fixtures
# Imported by the test modules (``from sandbox_kit import attack, host, sandbox``), not put in a
# conftest.py: other test modules' ``from conftest import ...`` takes whichever conftest was
# imported last.
#
# * ``host`` (per module): secrets in the environment (set before the pool starts), a root-only
#   secret file, a world-readable data directory with a database file, listening TCP and unix
#   sockets, a process of the sandbox uid outside any sandbox; the environment is restored after.
# * ``sandbox`` (per module): a started :class:`SandboxRunner` with every layer.
# * ``attack``: an :class:`Attack` through ``sandbox``; a test that passes without calling
#   ``attack.host_untouched`` fails.


@pytest.fixture(scope="module")
def host():
    """The host's bait; the secrets are in this process's environment while the module runs."""
    from service.config import get_settings

    bait = Host.create()
    saved = {k: os.environ.get(k) for k in ("NNGRADE_TEST_SECRET", "DATABASE_URL")}
    cached = get_settings.cache_info().currsize
    os.environ["NNGRADE_TEST_SECRET"] = bait.secret
    os.environ["DATABASE_URL"] = f"postgresql://grader:{bait.secret}@127.0.0.1:5432/nngrade"
    try:
        yield bait
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if cached == 0:
            get_settings.cache_clear()  # nothing may keep the fake DATABASE_URL
        bait.close()


@pytest.fixture(scope="module")
def sandbox(host):
    """A warm pool with every layer, started after the secrets are in the environment."""
    runner = start_runner()
    assert FULL_LAYERS <= set(runner.isolation), runner.isolation
    yield runner
    runner.close()


def checked_attack(host, runner, request):
    """An :class:`Attack` through ``runner``; fails the test if it passed without checking the host."""
    failed = request.session.testsfailed
    a = Attack(host, runner)
    yield a
    if not a.checked and request.session.testsfailed == failed:
        pytest.fail("the test did not check the host (attack.host_untouched)")


@pytest.fixture
def attack(host, sandbox, request):
    """``attack(name, exercise="dense", **limits) -> Report`` through the module's full-isolation pool."""
    yield from checked_attack(host, sandbox, request)
