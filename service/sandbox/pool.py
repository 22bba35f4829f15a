"""The warm pool: sandboxes forked ahead of time from a zygote, one per submission.

Starting Python and importing NumPy costs about 100 ms; the zygote pays it once.  The
pool keeps ``size`` sandboxes already forked, with fresh namespaces, waiting for a
submission; a background thread refills it.  Each sandbox serves exactly one submission
and is then killed with everything it started.  If the zygote dies it is restarted; if
it cannot start, :meth:`SandboxPool.acquire` raises :class:`SandboxStartError` with the
reason instead of hanging.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from graders.framework.plain import WireError

from . import channel
from .cgroups import CgroupTree
from .session import HELLO_TIMEOUT, Sandbox, ordered
from .zygote import Runtime, SandboxStartError, Zygote, clean_stale_workdirs

log = logging.getLogger("nngrade.sandbox")
FULL_ISOLATION = frozenset({"bwrap", "namespaces", "seccomp", "rlimits", "no-new-privs", "no-capabilities"})


def read_hello(sandbox: Sandbox, timeout: float = HELLO_TIMEOUT) -> list[str]:
    """The first message of a fresh sandbox: the layers its keeper achieved (no student code ran yet)."""
    sandbox.rpc.settimeout(timeout)
    try:
        hello = channel.recv(sandbox.rpc, max_bytes=65536)
    except (OSError, EOFError, WireError) as exc:  # socket.timeout is an OSError
        raise SandboxStartError(f"a new sandbox did not report its layers: {type(exc).__name__}: {exc}") from None
    finally:
        sandbox.rpc.setblocking(False)
    layers = hello.get("hello") if type(hello) is dict else None
    if type(layers) is not list:
        raise SandboxStartError("a new sandbox sent a malformed greeting")
    return [str(x)[:40] for x in layers]


def open_sandbox(zygote: Zygote, cgroups: CgroupTree | None) -> Sandbox:
    """Fork one sandbox from ``zygote``, put it in a cgroup of its own, and read its layers."""
    rpc, out_fd, keeper = zygote.spawn()
    sandbox = Sandbox(rpc, out_fd, keeper, zygote.outer_layers, zygote=zygote)
    try:
        try:
            sandbox.attach(cgroups.sandbox() if cgroups is not None else None)
        except OSError as exc:  # socket.timeout is an OSError
            raise SandboxStartError(f"a new sandbox's keeper could not be accounted for: {exc}") from None
        sandbox.layers = read_hello(sandbox)
    except BaseException:
        sandbox.close()
        raise
    return sandbox


class SandboxPool:
    """Keeps ``size`` sandboxes ready.  Thread-safe."""

    def __init__(self, *, size: int, use_bwrap: bool, disabled: frozenset[str], tmpfs_mb: int = 64):
        self.size = size
        self.use_bwrap = use_bwrap
        self.disabled = disabled
        self.tmpfs_mb = tmpfs_mb
        self._ready: queue.Queue[Sandbox] = queue.Queue()
        self._zygote: Zygote | None = None
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stopped = False
        self.error: str | None = None
        self.layers: list[str] = []
        self._thread: threading.Thread | None = None
        self._runtime: Runtime | None = None
        self._starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-zygote")
        self._cgroups: CgroupTree | None = None
        #: How each sandbox's CPU time is measured: "cgroup", or why not and what instead.
        self.cpu_accounting = "not started"

    def cgroups(self) -> CgroupTree | None:
        """The pool's cgroup tree, made on first use (None where cgroups are unavailable)."""
        with self._lock:
            if self.cpu_accounting == "not started":
                removed = clean_stale_workdirs()
                if removed:
                    log.info("removed %d working directories of sandboxes of a dead service", len(removed))
                self._cgroups, reason = CgroupTree.create()
                self.cpu_accounting = "cgroup" if self._cgroups is not None else \
                    f"process CPU time from /proc ({reason})"
            return self._cgroups

    # ------------------------------------------------------------------ zygote

    def _ensure_zygote(self) -> Zygote:
        with self._lock:
            if self._stopped:
                raise SandboxStartError("the sandbox pool is closed")
            if self._zygote is not None and self._zygote.alive():
                return self._zygote
            if self._zygote is not None:
                log.warning("sandbox zygote exited (status %s); restarting", self._zygote.process.poll()
                            if self._zygote.process else None)
                self._zygote.stop()
                self._discard_ready()  # they died with their zygote's namespaces
            if self._runtime is None:
                self._runtime = Runtime()
            zygote = Zygote(use_bwrap=self.use_bwrap, disabled=self.disabled, runtime=self._runtime,
                            tmpfs_mb=self.tmpfs_mb)
            try:
                # bwrap --die-with-parent ties the sandbox to the *thread* that started it
                # (PR_SET_PDEATHSIG): start it from the pool's own long-lived thread, never from
                # a request or worker thread that may exit.
                self._starter.submit(zygote.start).result()
            except SandboxStartError as exc:
                self.error = str(exc)
                raise
            self._zygote = zygote
            self.error = None
            return zygote

    def spawn(self) -> Sandbox:
        """Fork one fresh sandbox and wait until it reports its layers."""
        for attempt in (1, 2):
            zygote = self._ensure_zygote()
            try:
                sandbox = open_sandbox(zygote, self.cgroups())
                self.layers = list(ordered(sandbox.outer_layers + sandbox.layers))
                return sandbox
            except SandboxStartError as exc:
                self.error = str(exc)
                if attempt == 2:
                    raise
                with self._lock:
                    if self._zygote is not None:
                        self._zygote.stop()
                        self._zygote = None
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ pool

    def start(self) -> None:
        """Start the zygote now (raising if it cannot start) and the refill thread."""
        self._ensure_zygote()
        if self._thread is None:
            self._thread = threading.Thread(target=self._refill, name="sandbox-pool", daemon=True)
            self._thread.start()
        self._wake.set()

    def _refill(self) -> None:
        while not self._stopped:
            self._wake.wait(timeout=1.0)
            self._wake.clear()
            if self._cgroups is not None:
                self._cgroups.reap()
            while not self._stopped and self._ready.qsize() < self.size:
                try:
                    self._ready.put(self.spawn())
                except SandboxStartError as exc:
                    log.error("sandbox pool cannot start sandboxes: %s", exc)
                    time.sleep(1.0)
                    break

    def acquire(self) -> Sandbox:
        """A fresh sandbox: from the pool if one is ready, else forked now."""
        self._wake.set()
        while True:
            try:
                sandbox = self._ready.get_nowait()
            except queue.Empty:
                return self.spawn()
            if not sandbox.closed and sandbox.rpc.fileno() >= 0 and sandbox.zygote_alive():
                return sandbox
            sandbox.close()  # it died with its zygote: never hand it to a submission

    def _discard_ready(self) -> None:
        while True:
            try:
                self._ready.get_nowait().close()
            except queue.Empty:
                return

    def ready_count(self) -> int:
        return self._ready.qsize()

    def close(self) -> None:
        self._stopped = True
        self._wake.set()
        self._discard_ready()
        with self._lock:
            if self._zygote is not None:
                self._zygote.stop()
                self._zygote = None
            if self._runtime is not None:
                self._runtime.cleanup()
                self._runtime = None
            if self._cgroups is not None:
                if not self._cgroups.close():
                    log.warning("sandbox cgroups still busy at shutdown: %s", self._cgroups.directories)
                self._cgroups = None
        clean_stale_workdirs()  # those of keepers that had to be killed
        self._starter.shutdown(wait=False)
