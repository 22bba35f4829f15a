"""The sandbox: student code runs only here, never in the grader's process.

:class:`SandboxRunner` implements the grader framework's ``Runner``: ``open(source,
limits)`` takes a fresh sandbox from the warm pool, sends the source, and returns a
session the grader calls through.  Layers (see ``docs/security.md``): bubblewrap
(read-only minimal filesystem, no network, unprivileged uid, new namespaces), fresh
per-submission namespaces and tmpfs, resource limits, no capabilities, no new
privileges, seccomp, an empty environment, a wall-clock deadline enforced from outside.
"""

from __future__ import annotations

import atexit
import logging
import sys
import threading

from graders.framework.proxy import Limits, RunnerUnavailable, StudentFault

from . import selftest
from .pool import FULL_ISOLATION, SandboxPool, open_sandbox
from .session import SandboxSession
from .zygote import Runtime, SandboxStartError, Zygote, bwrap_available

__all__ = ["FULL_ISOLATION", "ColdRunner", "IsolationUnavailable", "SandboxRunner", "SandboxStartError",
           "shared_runner"]
log = logging.getLogger("nngrade.sandbox")


class IsolationUnavailable(RunnerUnavailable):
    """NNGRADE_REQUIRE_ISOLATION is set and a layer is missing: untrusted code is refused."""


class SandboxRunner:
    """Opens sandboxed sessions from a warm pool."""

    def __init__(self, *, pool_size: int = 2, disabled: frozenset[str] = frozenset(),
                 require_isolation: bool = False):
        self.require_isolation = require_isolation
        self.disabled = frozenset(disabled)
        use_bwrap = "bwrap" not in self.disabled and bwrap_available()
        self.pool = SandboxPool(size=pool_size, use_bwrap=use_bwrap, disabled=self.disabled)
        self._started = False
        self._lock = threading.Lock()
        self.warned = False
        #: Why the self-test probe failed (then nothing is graded), or None.
        self.self_test_error: str | None = None

    # -- status, for /readyz and reports -------------------------------------------------

    @property
    def isolation(self) -> tuple[str, ...]:
        return tuple(self.pool.layers)

    def missing_layers(self) -> list[str]:
        return sorted(FULL_ISOLATION - set(self.pool.layers))

    def status(self) -> dict:
        return {"ready": self.pool.ready_count(), "size": self.pool.size, "layers": list(self.pool.layers),
                "missing": self.missing_layers() if self.pool.layers else [],
                "error": self.self_test_error or self.pool.error, "cpu_accounting": self.pool.cpu_accounting}

    def ready(self) -> bool:
        return self.self_test_error is None and self.pool.error is None and bool(self.pool.layers)

    def start(self) -> None:
        """Start the pool, learn the layers and grade the self-test probe; warn loudly (or refuse).

        Raises
        ------
        SandboxStartError
            If the sandbox cannot start, or runs the known-correct probe wrongly: then nothing
            is graded (a student would be blamed for the sandbox), now or at any later ``open``.
        """
        with self._lock:
            if self.self_test_error is not None:
                raise SandboxStartError(self.self_test_error)
            if self._started:
                return
            self.pool.start()
            probe = self.pool.spawn()  # no student code: only to learn the layers
            probe.close()
            failure = selftest.run(lambda source, limits: self._open_session(source, limits, trusted=True))
            if failure is not None:
                self.self_test_error = (f"the sandbox ({', '.join(self.pool.layers)}) cannot run correct code on "
                                        f"this machine, so nothing is graded: {failure}")
                log.error("%s", self.self_test_error)
                print(f"\n{'!' * 78}\nERROR: {self.self_test_error}\n{'!' * 78}\n", file=sys.stderr)
                raise SandboxStartError(self.self_test_error)
            self._started = True
        missing = self.missing_layers()
        if missing and not self.warned:
            self.warned = True
            banner = (f"WARNING: nngrade sandbox runs WITHOUT {', '.join(missing)}: student code is less isolated "
                      f"than it should be (install bubblewrap and libseccomp, allow user namespaces). "
                      f"Active layers: {', '.join(self.pool.layers)}.")
            framed = f"\n{'!' * 78}\n{banner}\n{'!' * 78}\n"
            # Once: into the log where one is configured (the service, the worker), else on stderr.
            if logging.getLogger().hasHandlers():
                log.warning(framed)
            else:
                print(framed, file=sys.stderr)

    def open(self, source: str, limits: Limits, *, filename: str = "submission.py",
             deadline: float | None = None) -> SandboxSession:
        self.start()
        return self._open_session(source, limits, filename=filename, deadline=deadline)

    def _open_session(self, source: str, limits: Limits, *, filename: str = "submission.py",
                      deadline: float | None = None, trusted: bool = False) -> SandboxSession:
        """A sandboxed session on ``source`` (``trusted``: the self-test's own probe, run whatever the layers)."""
        sandbox = self.pool.acquire()
        require = self.require_isolation and not trusted
        missing = sorted(FULL_ISOLATION - set(sandbox.outer_layers + sandbox.layers))
        if require and missing:
            sandbox.close()
            raise IsolationUnavailable("NNGRADE_REQUIRE_ISOLATION is set and the sandbox lacks "
                                       f"{', '.join(missing)}: refusing to run untrusted code")
        session = SandboxSession(sandbox, limits, deadline=deadline)
        try:
            session.load(source, filename)
        except StudentFault:
            session.close()
            raise
        if require and not FULL_ISOLATION <= set(session.isolation):
            session.close()
            raise IsolationUnavailable("the sandbox could not apply "
                                       f"{', '.join(sorted(FULL_ISOLATION - set(session.isolation)))}")
        return session

    def close(self) -> None:
        self.pool.close()


class ColdRunner(SandboxRunner):
    """A new zygote (bubblewrap + Python + NumPy import) for every submission: for comparison only."""

    _runtime: Runtime | None = None

    def open(self, source: str, limits: Limits, *, filename: str = "submission.py",
             deadline: float | None = None) -> SandboxSession:
        if self._runtime is None:
            self._runtime = Runtime()  # the hard-linked mirror is set-up, not per-submission cost
        zygote = Zygote(use_bwrap=self.pool.use_bwrap, disabled=self.disabled, runtime=self._runtime)
        zygote.start()
        try:
            sandbox = open_sandbox(zygote, self.pool.cgroups())
            sandbox.zygote = None  # the session stops this zygote itself
        except BaseException:
            zygote.stop()
            raise
        session = SandboxSession(sandbox, limits, deadline=deadline)
        original_close = session.close

        def close() -> None:
            original_close()
            zygote.stop()

        session.close = close  # type: ignore[method-assign]
        try:
            session.load(source, filename)
        except StudentFault:
            session.close()
            raise
        return session

    def close(self) -> None:
        super().close()
        if self._runtime is not None:
            self._runtime.cleanup()


_shared: dict[tuple, SandboxRunner] = {}
_shared_lock = threading.Lock()


def shared_runner(settings) -> SandboxRunner:
    """The process-wide runner for these settings (one warm pool per process)."""
    key = (settings.pool_size, settings.disabled_layers, settings.require_isolation)
    with _shared_lock:
        runner = _shared.get(key)
        if runner is None:
            runner = SandboxRunner(pool_size=settings.pool_size, disabled=settings.disabled_layers,
                                   require_isolation=settings.require_isolation)
            _shared[key] = runner
            atexit.register(runner.close)
    return runner
