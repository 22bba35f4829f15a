"""The student proxy: how a grader calls a submission's functions.

A grader never touches student code directly.  It asks a :class:`StudentSession` to
call a function by name with plain numeric arguments and gets back a
:class:`CallResult` holding plain data, or a :class:`StudentFault` with a diagnosis code.
A :class:`Runner` opens sessions for a submission's source.

Two runners implement this boundary: :class:`InProcessRunner` here (for a student's own
notebook and for measuring), and ``service.sandbox.SandboxRunner``, which runs the code in
a separate, isolated process and carries the same values over a socket.  Graders cannot
tell them apart, except that faults such as ``timeout`` and ``crashed`` only happen there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from .execution import Fault, invoke, load_submission
from .plain import NotPlain, to_plain

#: Faults after which a session cannot be trusted to go on: the runner starts a new one.
FATAL_CODES = frozenset({"timeout", "memory-limit", "crashed", "output-limit"})


class RunnerUnavailable(RuntimeError):
    """The runner cannot run student code at all (no sandbox, isolation refused).

    Not the student's fault and not a grading result: it propagates out of the grading
    run so the caller can retry later or report a service error, instead of a report.
    """


class StudentFault(Exception):
    """A call (or the loading of a submission) failed in the student's code."""

    def __init__(self, code: str, message: str, *, fatal: bool | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fatal = code in FATAL_CODES if fatal is None else fatal


@dataclass(frozen=True)
class Limits:
    """Resource budgets for one sandboxed session (from the exercise metadata)."""

    cpu_seconds: float = 10.0
    wall_seconds: float = 30.0
    call_seconds: float = 10.0
    memory_mb: int = 512
    output_kb: int = 64
    processes: int = 16

    def capped(self, other: "Limits") -> "Limits":
        """The tighter of ``self`` and the service-wide caps ``other``, field by field."""
        return Limits(**{f: min(getattr(self, f), getattr(other, f)) for f in self.__dataclass_fields__})


@dataclass
class CallResult:
    """What one call returned, as plain data, with facts the trusted side observed."""

    value: Any
    mutated: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0
    cpu_seconds: float | None = None


class StudentSession(Protocol):
    """One loaded submission that a grader can call."""

    isolation: tuple[str, ...]

    def call(self, function: str, *args: Any, **kwargs: Any) -> CallResult: ...

    def output(self) -> str: ...

    def close(self) -> None: ...


class Runner(Protocol):
    """Opens sessions on a submission's source."""

    isolation: tuple[str, ...]

    def open(self, source: str, limits: Limits, *, filename: str = "submission.py") -> StudentSession:
        """Load ``source``; raise :class:`StudentFault` if it cannot be loaded."""
        ...


def result_from_message(message: dict[str, Any], seconds: float) -> CallResult:
    """Turn :func:`execution.invoke`'s answer into a :class:`CallResult` or raise."""
    if "fault" in message:
        code, text = message["fault"]
        raise StudentFault(str(code), str(text))
    return CallResult(
        value=message["value"],
        mutated=_strings(message.get("mutated"), 64, 200),
        warnings=_strings(message.get("warnings"), 20, 300),
        seconds=seconds,
    )


def _strings(value: Any, limit: int, length: int) -> tuple[str, ...]:
    """A short tuple of short strings from a message field that may be anything."""
    if type(value) not in (list, tuple):
        return ()
    return tuple(v[:length] for v in value[:limit] if type(v) is str)


@dataclass
class InProcessSession:
    """Calls the student's functions in this process.  No isolation at all."""

    namespace: dict[str, Any]
    filename: str = "submission.py"
    isolation: tuple[str, ...] = ("none",)
    _closed: bool = field(default=False, repr=False)

    def call(self, function: str, *args: Any, **kwargs: Any) -> CallResult:
        try:
            plain_args = to_plain(args, allow_rng=True, where="the arguments")
            plain_kwargs = to_plain(kwargs, allow_rng=True, where="the arguments")
        except NotPlain as exc:  # a grader bug, not the student's
            raise TypeError(f"grader passed non-plain arguments: {exc}") from None
        start, cpu = time.perf_counter(), time.process_time()
        message = invoke(self.namespace, function, plain_args, plain_kwargs, filename=self.filename)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        return replace(result_from_message(message, seconds), cpu_seconds=cpu)

    def output(self) -> str:
        return ""

    def close(self) -> None:
        self._closed = True


class InProcessRunner:
    """Loads a submission into this process (for notebooks, tests and benchmarks).

    Use it only for code you trust (your own): it offers no protection from the code it runs.
    """

    isolation = ("none",)

    def open(self, source: str, limits: Limits, *, filename: str = "submission.py") -> InProcessSession:
        try:
            namespace = load_submission(source, filename)
        except Fault as fault:
            raise StudentFault(fault.code, fault.message) from None
        return InProcessSession(namespace, filename)


class NamespaceRunner:
    """Grades functions that already exist, e.g. the ones defined in a Jupyter notebook."""

    isolation = ("none",)

    def __init__(self, namespace: dict[str, Any], filename: str = "<notebook>"):
        self.namespace = namespace
        self.filename = filename

    def open(self, source: str, limits: Limits, *, filename: str = "submission.py") -> InProcessSession:
        return InProcessSession(self.namespace, self.filename)
