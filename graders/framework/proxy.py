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
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from .codes import FATAL_CODES, SANDBOX_CODES
from .execution import Fault, invoke, load_submission
from .plain import NotPlain, frozen, is_plain, to_plain

#: The longest failure message taken from the student's side.
MAX_FAULT_MESSAGE = 4000


class RunnerUnavailable(RuntimeError):
    """The runner cannot run student code at all (no sandbox, isolation refused).

    Not the student's fault and not a grading result: it propagates out of the grading
    run so the caller can retry later or report a service error, instead of a report.
    """


class MalformedReply(ValueError):
    """An answer from the student's side that the protocol does not allow.

    Always the submission's fault (its code can write anything on the sandbox's side);
    ``str(exc)`` says what was wrong, for a ``crashed`` message.
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

    def open(self, source: str, limits: Limits, *, filename: str = "submission.py",
             deadline: float | None = None) -> StudentSession:
        """Load ``source``; raise :class:`StudentFault` if it cannot be loaded.

        ``deadline`` (a ``time.monotonic()`` instant) ends the whole grading run's wall
        budget, shared by every session opened for it; runners without timeouts ignore it.
        """
        ...


def reported_fault(fault: Any, *, fatal: bool | None = None) -> StudentFault:
    """The :class:`StudentFault` for a ``fault`` field the student's side sent.

    Raises
    ------
    MalformedReply
        If it is not ``[code, message]`` with a code that side may report (``codes.SANDBOX_CODES``:
        timeouts, crashes and floods are observed by the trusted side, never taken from its word).
    """
    if type(fault) not in (list, tuple) or len(fault) != 2 or type(fault[0]) is not str \
            or type(fault[1]) is not str:
        raise MalformedReply("it reported a failure in a form it cannot report")
    if fault[0] not in SANDBOX_CODES:
        raise MalformedReply(f"it reported a failure code its side cannot know ({fault[0][:40]!r})")
    return StudentFault(fault[0], fault[1][:MAX_FAULT_MESSAGE], fatal=fatal)


def result_from_message(message: Any, seconds: float, *, function: str, labels: Collection[str]) -> CallResult:
    """Turn the answer to one call (:func:`execution.invoke`'s, decoded) into a :class:`CallResult`.

    Every field is validated here, for every runner: ``labels`` are the call's argument
    labels (positions ``"0"``, ``"1"`` ... and keyword names), the only ones ``mutated``
    may name.

    Raises
    ------
    StudentFault
        For a failure the student's side reported, or a value that is not numeric data.
    MalformedReply
        For anything else the protocol does not allow.
    """
    if type(message) is not dict:
        raise MalformedReply("its answer is not a message")
    if "fault" in message:
        raise reported_fault(message["fault"])
    if "value" not in message:
        raise MalformedReply("its answer holds neither a value nor a failure")
    if not is_plain(message["value"]):
        raise StudentFault("bad-return-type", f"`{function}` returned something that is not numeric data.")
    mutated = message.get("mutated", [])
    if type(mutated) is not list or len(mutated) > len(labels) \
            or any(type(m) is not str or m not in labels for m in mutated):
        raise MalformedReply("it named a changed argument that the call does not have")
    warnings = message.get("warnings", [])
    if type(warnings) is not list or any(type(w) is not str for w in warnings):
        raise MalformedReply("its warnings are not a list of texts")
    return CallResult(value=message["value"], mutated=tuple(dict.fromkeys(mutated)),
                      warnings=tuple(w[:300] for w in warnings[:20]), seconds=seconds)


def call_labels(args: tuple, kwargs: dict[str, Any]) -> tuple[str, ...]:
    """The labels of a call's arguments: positions as ASCII decimals, then keyword names."""
    return tuple(str(i) for i in range(len(args))) + tuple(kwargs)


@dataclass
class InProcessSession:
    """Calls the student's functions in this process.  No isolation at all."""

    namespace: dict[str, Any]
    filename: str = "submission.py"
    isolation: tuple[str, ...] = ("none",)
    _closed: bool = field(default=False, repr=False)

    def call(self, function: str, *args: Any, **kwargs: Any) -> CallResult:
        try:
            plain = to_plain((args, kwargs), allow_rng=True, where="the arguments", copy=False)
        except NotPlain as exc:  # a grader bug, not the student's
            raise TypeError(f"grader passed non-plain arguments: {exc}") from None
        # Read-only copies, decoded from bytes as the sandbox decodes them: the caller keeps the originals.
        plain_args, plain_kwargs = frozen(plain)
        start, cpu = time.perf_counter(), time.process_time()
        message = invoke(self.namespace, function, plain_args, plain_kwargs, filename=self.filename)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        try:
            result = result_from_message(message, seconds, function=function, labels=call_labels(args, kwargs))
        except MalformedReply as exc:  # the submission patched the framework it shares a process with
            raise StudentFault("crashed", f"`{function}` broke the grading code in its own process: {exc}.",
                               fatal=False) from None
        return replace(result, cpu_seconds=cpu)

    def output(self) -> str:
        return ""

    def close(self) -> None:
        self._closed = True


class InProcessRunner:
    """Loads a submission into this process (for notebooks, tests and benchmarks).

    Use it only for code you trust (your own): it offers no protection from the code it runs.
    """

    isolation = ("none",)

    def open(self, source: str, limits: Limits, *, filename: str = "submission.py",
             deadline: float | None = None) -> InProcessSession:
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

    def open(self, source: str, limits: Limits, *, filename: str = "submission.py",
             deadline: float | None = None) -> InProcessSession:
        return InProcessSession(self.namespace, self.filename)
