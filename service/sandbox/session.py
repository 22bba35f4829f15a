"""One sandboxed submission, seen from the trusted side.

Everything read from the sandbox is attacker-controlled: a frame's declared length is
checked against a cap before anything is allocated, the payload is decoded by
:func:`plain.decode` (validated, never unpickled), every wait has a deadline measured
here (a submission can fake its own clocks, not ours), the output pipe is drained into
a capped buffer and never parsed, and a closed or garbled channel is the submission's
fault (``crashed``), never the grader's.

The conversation is the one ``channel.py`` describes: every reply must carry the number
of the request it answers, and a byte the sandbox sends out of turn ends the session as a
protocol fault.  The isolation layers reported are the trusted side's knowledge only: the
outer layers it set up, and those of the sandbox's hello (sent before the source arrived)
that the sandbox confirmed before compiling it; nothing sent once student code ran can
change them.  Faults keep no buffer alive: they are raised outside ``except`` blocks (no
chained context), once the frames' buffers are released, and the session remembers a
fatal fault as (code, message), not as an exception whose traceback holds its frames.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import struct
import time
from dataclasses import replace
from typing import Any

import numpy as np

from graders.framework.plain import NotPlain, WireError, decode, to_plain
from graders.framework.proxy import (CallResult, Limits, MalformedReply, StudentFault, call_labels, reported_fault,
                                     result_from_message)

from .channel import EXIT_BUILTINS_REPLACED, EXIT_RUNNER_BROKEN, HEADER, MAX_REPLY, frame

MAX_RESULT = MAX_REPLY
HELLO_TIMEOUT = 10.0
UCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


#: Reports list the layers in this order, whoever assembled the list.
LAYER_ORDER = ("process", "empty-env", "bwrap", "namespaces", "tmpfs", "proc-hidden", "rlimits", "no-capabilities",
               "no-new-privs", "seccomp")


def ordered(layers: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    known = [layer for layer in LAYER_ORDER if layer in layers]
    return tuple(known + sorted(set(layers) - set(known)))


class Sandbox:
    """The three descriptors of one spawned sandbox, before it is given a submission.

    After :meth:`attach`, it also knows its keeper's host pid (from the kernel) and, where
    cgroups are available, its own cgroup: :meth:`cpu_seconds` is the sandbox's CPU time as
    measured from outside, which no process inside can fake or spend on another's account.
    """

    def __init__(self, rpc: socket.socket, out_fd: int, keeper: socket.socket, outer_layers: list[str],
                 zygote: Any = None):
        self.zygote = zygote
        self.rpc = rpc
        self.out_fd = out_fd
        self.keeper = keeper
        self.outer_layers = outer_layers
        self.layers: list[str] = []
        self.closed = False
        self.keeper_pid: int | None = None
        self.cgroup: Any = None  # cgroups.SandboxCgroup
        self._runner_pid: int | None = None
        rpc.setblocking(False)
        os.set_blocking(out_fd, False)

    def attach(self, cgroup: Any, timeout: float = HELLO_TIMEOUT) -> None:
        """Learn the keeper's pid from its credentials, put it in ``cgroup`` (if any), let it fork the runner.

        Raises
        ------
        OSError
            If the keeper does not identify itself in time, or cannot be moved into ``cgroup``.
        """
        self.keeper.settimeout(timeout)
        try:
            data, ancillary, _, _ = self.keeper.recvmsg(1, socket.CMSG_SPACE(UCRED.size))
            pid = next((UCRED.unpack(payload[:UCRED.size])[0] for level, kind, payload in ancillary
                        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS), 0)
            if data != b"c" or pid <= 0:
                raise OSError(f"the keeper sent {data!r} without its credentials")
            if cgroup is not None:
                cgroup.add(pid)
                self.cgroup = cgroup
            self.keeper_pid = pid
            self.keeper.sendall(b"g")
        finally:
            self.keeper.settimeout(None)

    def cpu_seconds(self) -> float | None:
        """CPU seconds the sandbox has used so far, read from outside it (None if unknown).

        From its cgroup: every process in it, reaped or not.  Without cgroups: the runner's
        own CPU time and that of the children it reaped, from ``/proc`` (work handed to a child
        that is still running is not counted there).
        """
        if self.closed:
            return None
        try:
            if self.cgroup is not None:
                return self.cgroup.cpu_seconds()
            if self.keeper_pid is None:
                return None
            if self._runner_pid is None:
                with open(f"/proc/{self.keeper_pid}/task/{self.keeper_pid}/children") as f:
                    self._runner_pid = int(f.read().split()[0])
            with open(f"/proc/{self._runner_pid}/stat") as f:
                stat = f.read()
            utime, stime, cutime, cstime = (int(x) for x in stat[stat.rindex(")") + 2:].split()[11:15])
            return (utime + stime + cutime + cstime) / CLOCK_TICKS
        except (OSError, ValueError, IndexError):
            return None

    def zygote_alive(self) -> bool:
        """False once the zygote it was forked from has died (taking it along)."""
        return self.zygote is None or self.zygote.alive()

    def close(self) -> None:
        """Kill the sandbox's whole process tree (via its keeper) and release everything."""
        if self.closed:
            return
        self.closed = True
        try:
            self.keeper.send(b"k")
        except OSError:
            pass
        for closer in (self.rpc.close, lambda: os.close(self.out_fd), self.keeper.close):
            try:
                closer()
            except OSError:
                pass
        if self.cgroup is not None:
            self.cgroup.release()


class SandboxSession:
    """A loaded submission in its own sandbox; implements the grader's StudentSession.

    ``deadline`` (``time.monotonic()``) ends the wall budget of the whole grading run, which
    may take several sessions; without one, the session has ``limits.wall_seconds`` of its own.
    """

    def __init__(self, sandbox: Sandbox, limits: Limits, *, deadline: float | None = None):
        self.sandbox = sandbox
        self.limits = limits
        #: Until the sandbox confirms what it applied: only the layers set up from outside.
        self.isolation: tuple[str, ...] = ordered(sandbox.outer_layers)
        self._output = bytearray()
        self._output_total = 0
        self._deadline = time.monotonic() + limits.wall_seconds if deadline is None else deadline
        self._dead: tuple[str, str] | None = None
        self._stopping = False
        self._calls = 0

    # ------------------------------------------------------------------ protocol

    def _send(self, message: Any) -> None:
        try:
            for part in frame(message):
                self._sendall(part)
            return
        except (BrokenPipeError, ConnectionResetError):
            pass
        raise self._ended("while it received its input")

    def _sendall(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            try:
                n = self.sandbox.rpc.send(view)
                view = view[n:]
            except BlockingIOError:
                self._wait(select.POLLOUT, self._deadline, "while receiving its arguments")

    def _drain_output(self) -> None:
        if self.sandbox.closed:
            return
        cap = self.limits.output_kb * 1024
        while True:
            try:
                chunk = os.read(self.sandbox.out_fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                return
            if not chunk:
                return
            self._output_total += len(chunk)
            room = cap - len(self._output)
            if room > 0:
                self._output += chunk[:room]
            if self._output_total > cap:
                if self._stopping:  # already being stopped: what it keeps printing is not read
                    return
                raise self._kill("output-limit",
                                 f"Your code printed more than {self.limits.output_kb} KB; the sandbox was stopped. "
                                 f"Remove the prints from loops.")

    def _wait(self, event: int, deadline: float, what: str) -> None:
        """Wait until the RPC socket is ready for ``event``, draining output meanwhile."""
        poller = select.poll()
        poller.register(self.sandbox.rpc, event)
        poller.register(self.sandbox.out_fd, select.POLLIN)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._timeout(what)
            for fd, ev in poller.poll(min(remaining, 1.0) * 1000):
                if fd == self.sandbox.out_fd:
                    self._drain_output()
                    if ev & (select.POLLHUP | select.POLLERR) and not ev & select.POLLIN:
                        poller.unregister(self.sandbox.out_fd)
                elif ev & (event | select.POLLHUP | select.POLLERR):
                    return

    def _recv_exact(self, n: int, deadline: float, what: str) -> bytearray:
        buf = bytearray(n)
        view = memoryview(buf)
        got = 0
        while got < n:
            try:
                k = self.sandbox.rpc.recv_into(view[got:], n - got)
            except BlockingIOError:
                self._wait(select.POLLIN, deadline, what)
                continue
            except OSError:
                k = 0
            if k == 0:
                del view, buf  # the fault's traceback keeps this frame: not its buffer
                raise self._ended(what)
            got += k
        return buf

    def _recv(self, deadline: float, what: str) -> Any:
        (length,) = HEADER.unpack(self._recv_exact(HEADER.size, deadline, what))
        if length > MAX_RESULT:  # the runner answers a longer result with a fault: these bytes are not its own
            raise self._protocol(f"it announced an answer of {length} bytes {what}, longer than any answer "
                                 f"({MAX_RESULT // 2**20} MB)")
        data = self._recv_exact(length, deadline, what)
        self._drain_output()
        try:
            return decode(data, max_bytes=MAX_RESULT)
        except WireError as exc:
            problem = str(exc)
        del data  # released before the fault is raised, outside the except block: no context holds it
        raise self._kill("crashed", f"The sandbox sent a garbled answer {what} ({problem}).")

    def _reply(self, tag: int, deadline: float, what: str) -> dict:
        """The next message, which must be the sandbox's answer to request ``tag``."""
        reply = self._recv(deadline, what)
        if type(reply) is not dict or type(reply.get("call")) is not int:
            raise self._protocol(f"its answer {what} does not say which request it answers")
        if reply["call"] != tag:
            raise self._protocol(f"it sent an answer to request {reply['call']} {what}, where request {tag} "
                                 f"was waiting for one")
        return reply

    def _expect_silence(self, what: str) -> None:
        """Nothing may be waiting on the RPC socket between a reply and the next request."""
        try:
            pending = self.sandbox.rpc.recv(64, socket.MSG_PEEK)
        except BlockingIOError:
            return
        except OSError:
            pending = b""
        if not pending:
            raise self._ended(what)
        raise self._protocol(f"it sent {len(pending)}{'+' if len(pending) == 64 else ''} bytes {what} that no "
                             f"request asked for")

    # ------------------------------------------------------------------ endings

    def _kill(self, code: str, message: str) -> StudentFault:
        if self._dead is None and not self._stopping and not self.sandbox.closed:
            self._stopping = True
            try:
                self._drain_output()  # keep what it printed before the end: it is often the best clue
            except StudentFault:
                pass
        self.sandbox.close()
        if self._dead is None:
            self._dead = (code, message)
        return StudentFault(code, message, fatal=True)

    def _protocol(self, problem: str) -> StudentFault:
        return self._kill("crashed", f"The sandbox broke the grading protocol: {problem}. Only the runner may "
                                     f"write to its channel; code that writes to inherited file descriptors, or "
                                     f"threads that go on after a function returned, can cause this.")

    def _timeout(self, what: str) -> StudentFault:
        wall = self._deadline <= time.monotonic()
        limit = f"{self.limits.wall_seconds:g} s for the whole submission" if wall else \
            f"{self.limits.call_seconds:g} s per call"
        return self._kill("timeout", f"Time limit exceeded {what} ({limit}): look for an infinite loop, a sleep, "
                                     f"or a loop over samples that should be a matrix product.")

    def _exit_status(self) -> tuple[int | None, float, bool]:
        """(wait status, CPU seconds, killed on request) as reported by the keeper."""
        keeper = self.sandbox.keeper
        try:
            keeper.send(b"k")
        except OSError:
            pass
        keeper.settimeout(3.0)
        try:
            text = keeper.recv(64).decode("ascii", "replace").split()
            return int(text[0]), float(text[1]), text[2] == "1"
        except (OSError, ValueError, IndexError):
            return None, 0.0, False

    def _ended(self, what: str) -> StudentFault:
        """The sandbox closed the channel: find out why from its keeper."""
        status, cpu, _ = self._exit_status()
        try:
            self._drain_output()
        except StudentFault:
            pass
        if status is None:
            return self._kill("crashed", f"The sandbox stopped {what} without saying why.")
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"signal {sig}"
            if sig == signal.SIGXCPU or cpu >= self.limits.cpu_seconds - 0.05:
                return self._kill("timeout", f"CPU time limit exceeded {what} ({self.limits.cpu_seconds:g} s of "
                                             f"CPU): look for an infinite loop or very slow code.")
            return self._kill("crashed", f"Your code crashed {what}: the process was killed by {name}"
                                         + (" (a segmentation fault: invalid memory access, e.g. through ctypes)"
                                            if sig == signal.SIGSEGV else "") + ".")
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
        if code == EXIT_BUILTINS_REPLACED:
            return self._kill("crashed", f"Your code replaced Python builtins (such as len, isinstance or type) "
                                         f"that the grader's runner relies on, so it could not send your results "
                                         f"{what}. Do not assign to builtins.")
        if code == EXIT_RUNNER_BROKEN:
            return self._kill("crashed", f"The grader's runner failed {what}, after your code changed something it "
                                         f"relies on (a module of the standard library or NumPy, or builtins).")
        return self._kill("crashed", f"Your code ended the process {what} (exit status {code}, e.g. os._exit()); "
                                     f"functions must return their result.")

    # ------------------------------------------------------------------ StudentSession

    def load(self, source: str, filename: str) -> None:
        limits = {"cpu_seconds": self.limits.cpu_seconds, "memory_mb": self.limits.memory_mb,
                  "processes": self.limits.processes}
        data = np.frombuffer(source.encode("utf-8", "surrogatepass"), dtype=np.uint8)  # any size, no string cap
        self._send({"op": "load", "call": 0, "source": data, "filename": filename[:200], "limits": limits})
        applied = self._reply(0, self._deadline, "while the sandbox applied its limits")
        layers = applied.get("layers")
        if type(layers) is not list:
            raise self._protocol("it did not say which isolation layers it applied")
        planned = set(self.sandbox.layers)  # the hello, sent before any student byte arrived
        self.isolation = ordered(self.sandbox.outer_layers + [x for x in layers if type(x) is str and x in planned])
        reply = self._reply(0, self._deadline, "while your module was imported")
        if "fault" in reply:
            try:
                fault = reported_fault(reply["fault"], fatal=False)
            except MalformedReply as exc:
                problem = str(exc)
            else:
                self.sandbox.close()
                raise fault
            raise self._protocol(f"{problem} while your module was imported")
        if reply.get("loaded") is not True:
            raise self._protocol("its answer while your module was imported says neither loaded nor failed")

    def call(self, function: str, *args: Any, **kwargs: Any) -> CallResult:
        if self._dead is not None or self.sandbox.closed:
            raise StudentFault("crashed", "The sandbox was already stopped.", fatal=True)
        self._calls += 1
        tag = self._calls
        try:
            message = {"op": "call", "call": tag, "function": function,
                       "args": to_plain(args, allow_rng=True, where="the arguments", copy=False),
                       "kwargs": to_plain(kwargs, allow_rng=True, where="the arguments", copy=False)}
        except NotPlain as exc:
            raise TypeError(f"grader passed non-plain arguments: {exc}") from None
        self._expect_silence(f"before `{function}` was called")
        cpu_before = self.sandbox.cpu_seconds()
        start = time.monotonic()
        deadline = min(self._deadline, start + self.limits.call_seconds)
        self._send(message)
        reply = self._reply(tag, deadline, f"in `{function}`")
        seconds = time.monotonic() - start
        cpu_after = self.sandbox.cpu_seconds()
        cpu_seconds = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
        try:
            result = result_from_message(reply, seconds, function=function, labels=call_labels(args, kwargs))
        except MalformedReply as exc:
            problem = str(exc)
        else:
            return replace(result, cpu_seconds=cpu_seconds)
        raise self._protocol(f"{problem} in `{function}`")

    def output(self) -> str:
        try:
            self._drain_output()
        except StudentFault:
            pass
        text = self._output.decode("utf-8", "replace")
        if self._output_total > len(self._output):
            text += f"\n… [{self._output_total - len(self._output)} more bytes of output cut]"
        return text

    def close(self) -> None:
        self.sandbox.close()
