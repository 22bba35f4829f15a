"""The trusted side of the channel reads attacker-controlled bytes: caps, deadlines, validation.

A fake sandbox made of real sockets and a real pipe stands in for the sandboxed process:
the test writes what a hostile sandbox could write (frames declaring huge lengths, garbled
payloads, dtypes and shapes that must not be allocated, faults it has no right to report,
nothing at all, a flood of output) and checks that :class:`SandboxSession` turns each into
the submission's fault, stops the sandbox through its keeper, and never into a grader error.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import threading

import numpy as np
import pytest

from graders.framework.plain import MAGIC, encode
from graders.framework.proxy import Limits, StudentFault
from service.sandbox import channel
from service.sandbox.channel import HEADER
from service.sandbox.session import MAX_RESULT, Sandbox, SandboxSession


class FakeSandbox:
    """The sandbox's ends of the RPC socket, the keeper's socket and the output pipe.

    What the test makes it answer is written once the session's request has arrived, as a
    sandbox would: :meth:`reply` queues raw bytes, :meth:`answer` a message tagged with the
    request it answers.
    """

    def __init__(self, **limits):
        trusted_rpc, self.rpc = socket.socketpair()
        trusted_keeper, self.keeper = socket.socketpair()
        out_r, self.out = os.pipe()
        limits = {"call_seconds": 0.5, "wall_seconds": 5, "cpu_seconds": 2, "output_kb": 1, **limits}
        self.session = SandboxSession(Sandbox(trusted_rpc, out_r, trusted_keeper, ["process"]), Limits(**limits))
        self.queued: list = []
        self.requests: list = []

    def reply(self, payload: bytes, length: int | None = None) -> None:
        self.queued.append(HEADER.pack(len(payload) if length is None else length) + payload)

    def answer(self, message: dict, tag: int | None = None) -> None:
        """``message`` as the answer to request ``tag`` (by default the next call's)."""
        self.reply(encode({**message, "call": len(self.requests) + 1 if tag is None else tag}))

    def then(self, action) -> None:
        """Run ``action()`` after the queued bytes are written (close the socket, talk to the keeper)."""
        self.queued.append(action)

    def _respond(self) -> None:
        try:
            self.requests.append(channel.recv(self.rpc, max_bytes=2**20))
        except (EOFError, OSError):
            return
        for item in self.queued:
            if callable(item):
                item()
            else:
                self.rpc.sendall(item)
        self.queued = []

    def call(self):
        responder = threading.Thread(target=self._respond, daemon=True)
        responder.start()
        try:
            return self.session.call("dense_forward", np.ones((2, 2)))
        finally:
            responder.join(timeout=5)

    def fault(self) -> StudentFault:
        with pytest.raises(StudentFault) as info:
            self.call()
        return info.value

    def stopped(self) -> bool:
        """The session asked the keeper to kill the sandbox and closed its ends."""
        self.keeper.settimeout(1)
        return self.keeper.recv(1) == b"k" and self.session.sandbox.closed

    def close(self) -> None:
        self.session.close()
        for s in (self.rpc, self.keeper):
            s.close()
        if self.out >= 0:
            os.close(self.out)
            self.out = -1


@pytest.fixture
def fake():
    sandboxes = []

    def make(**limits) -> FakeSandbox:
        sandboxes.append(FakeSandbox(**limits))
        return sandboxes[-1]

    yield make
    for s in sandboxes:
        s.close()


def crafted(arrays: list, tree) -> bytes:
    """A message in the wire format with a header of our choosing (and no array data)."""
    header = json.dumps({"t": tree, "a": arrays}).encode()
    return MAGIC + struct.pack("<I", len(header)) + header


def test_a_valid_result_is_decoded(fake):
    s = fake()
    s.answer({"value": np.arange(4.0).reshape(2, 2), "mutated": [], "warnings": []})
    result = s.call()
    assert type(result.value) is np.ndarray and result.value.tolist() == [[0.0, 1.0], [2.0, 3.0]]
    assert not s.session.sandbox.closed


def test_a_frame_larger_than_the_cap_is_refused_before_reading_it(fake):
    s = fake()
    s.reply(b"", length=MAX_RESULT + 1)  # no payload follows: nothing may wait for it or allocate it
    fault = s.fault()
    # the runner answers a result that long with bad-return-type itself: this length is not its own
    assert fault.code == "crashed" and "protocol" in fault.message and f"{MAX_RESULT // 2**20} MB" in fault.message
    assert s.stopped()


@pytest.mark.parametrize("payload, words", [
    (b"PICKLE" + b"\x80\x04" * 20, "not an nngrade message"),
    (MAGIC + struct.pack("<I", 2**31) + b"{}", "header length out of range"),
    (MAGIC + struct.pack("<I", 5) + b"{nope", "header is not JSON"),
    (crafted([["|O", [2]]], ["a", 0]), "is not accepted"),  # object dtype: pickles
    (crafted([["V8", [2]]], ["a", 0]), "is not accepted"),  # void / structured
    (crafted([["<f8", [2**40, 2**40]]], ["a", 0]), "too large"),  # declared size, checked before allocating
    (crafted([["<f8", [-1]]], ["a", 0]), "non-negative"),
    (crafted([["<f8", [4]]], ["a", 0]), "does not match"),  # data missing
    (crafted([], ["x", "os.system('touch /tmp/pwned')"]), "bad tree node"),
])
def test_a_garbled_frame_is_a_crash_of_the_submission(fake, payload, words):
    s = fake()
    s.reply(payload)
    fault = s.fault()
    assert fault.code == "crashed" and "garbled" in fault.message and words in fault.message, fault.message
    assert s.stopped()


@pytest.mark.parametrize("message, code", [
    (["value", 1.0], "crashed"),                                 # not a dict: no request it answers
    ({"value": "all tests passed"}, "bad-return-type"),          # a string is not numeric data
    ({"verdict": "pass"}, "crashed"),                            # neither a value nor a fault
    ({"fault": ["timeout", "the grader was too slow"]}, "crashed"),  # a code only the trusted side observes
    ({"fault": ["pass", "ok"]}, "crashed"),
    ({"fault": "exception"}, "crashed"),
])
def test_a_well_formed_answer_that_says_the_wrong_thing(fake, message, code):
    s = fake()
    s.reply(encode({**message, "call": 1}) if type(message) is dict else encode(message))
    fault = s.fault()
    assert fault.code == code
    assert not fault.fatal or s.stopped()  # a fatal fault stops the sandbox


def test_a_reported_fault_message_is_cut(fake):
    s = fake()
    s.answer({"fault": ["exception", "PASSED " * 9000]})
    fault = s.fault()
    assert fault.code == "exception" and len(fault.message) == 4000 and not fault.fatal


def test_no_answer_is_a_timeout_measured_outside(fake):
    s = fake(call_seconds=0.3)
    fault = s.fault()
    assert fault.code == "timeout" and "0.3 s per call" in fault.message
    assert s.stopped()


@pytest.mark.parametrize("status, cpu, code, words", [
    (signal.SIGSEGV, 0.1, "crashed", "killed by SIGSEGV"),
    (signal.SIGKILL, 2.0, "timeout", "CPU time limit exceeded"),  # killed at the hard CPU limit
    (signal.SIGXCPU, 1.0, "timeout", "CPU time limit exceeded"),
    (3 << 8, 0.1, "crashed", "exit status 3"),
])
def test_a_closed_channel_is_explained_by_the_keeper(fake, status, cpu, code, words):
    s = fake()
    s.reply(b"NNG1", length=100)  # half a frame, then the sandbox is gone
    s.then(lambda: s.keeper.sendall(f"{int(status)} {cpu} 0".encode()))
    s.then(lambda: s.rpc.shutdown(socket.SHUT_WR))
    fault = s.fault()
    assert fault.code == code and words in fault.message, fault.message


def test_a_closed_channel_and_a_silent_keeper_is_a_crash(fake):
    s = fake()
    s.then(lambda: s.rpc.shutdown(socket.SHUT_WR))
    s.then(s.keeper.close)
    fault = s.fault()
    assert fault.code == "crashed" and "without saying why" in fault.message


def test_an_output_flood_stops_the_sandbox_while_it_computes(fake):
    s = fake(output_kb=1, call_seconds=2)
    os.write(s.out, b"PASS " * 1000)  # 5 KB, nothing on the RPC socket
    fault = s.fault()
    assert fault.code == "output-limit" and "1 KB" in fault.message
    assert s.stopped()
    assert len(s.session.output()) < 1200  # kept: the first KB, and a note of what was cut


# --------------------------------------------------------------------------- turns and tags


VALUE = {"value": np.zeros((2, 2)), "mutated": [], "warnings": []}


@pytest.mark.parametrize("tag, words", [(None, "does not say which request"), (2, "answer to request 2"),
                                        (0, "answer to request 0"), (True, "does not say which request")])
def test_an_answer_to_another_request_is_a_protocol_fault(fake, tag, words):
    s = fake()
    message = dict(VALUE) if tag is None else {**VALUE, "call": tag}
    s.reply(encode(message))
    fault = s.fault()
    assert fault.code == "crashed" and "broke the grading protocol" in fault.message and words in fault.message
    assert s.stopped()


def test_bytes_that_no_request_asked_for_end_the_session_before_the_next_call(fake):
    s = fake()
    s.answer(VALUE)
    s.answer(VALUE, tag=2)  # an answer to the next call, sent before that call was made
    assert s.call().value.shape == (2, 2)
    fault = s.fault()
    assert fault.code == "crashed" and "that no request asked for" in fault.message
    assert s.stopped()


@pytest.mark.parametrize("mutated", [["\u00b2"], ["\u0663"], ["1"], ["-1"], [0], ["0", "0", "0"], "0"])
def test_a_changed_argument_label_that_names_no_argument_is_a_protocol_fault(fake, mutated):
    s = fake()
    s.answer({**VALUE, "mutated": mutated})
    fault = s.fault()
    assert fault.code == "crashed" and "changed argument" in fault.message, fault.message
    assert s.stopped()


def test_a_label_naming_the_argument_is_kept(fake):
    s = fake()
    s.answer({**VALUE, "mutated": ["0"]})
    assert s.call().mutated == ("0",)


def test_the_isolation_list_is_the_hello_confirmed_before_the_source_is_compiled(fake):
    s = fake()
    s.session.sandbox.layers = ["namespaces", "rlimits", "seccomp"]  # the hello

    def load():
        s.session.load("x = 1\n", "sub.py")

    s.answer({"layers": ["namespaces", "rlimits", "approved-by-instructor"]}, tag=0)  # no seccomp after all
    s.answer({"loaded": True, "layers": ["seccomp", "verified"]}, tag=0)  # after the source ran: ignored
    responder = threading.Thread(target=s._respond, daemon=True)
    responder.start()
    load()
    responder.join(5)
    assert s.session.isolation == ("process", "namespaces", "rlimits")


def test_a_garbled_large_answer_is_freed_without_the_cycle_collector(fake):
    import gc
    import tracemalloc

    size = 8 * 2**20
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        for _ in range(3):
            s = fake(call_seconds=5)
            s.reply(b"NNG1" + b"\xff" * (size - 4))
            assert "garbled" in s.fault().message
            s.close()
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        gc.enable()
    assert peak >= size and held < 2**20, f"{held / 2**20:.1f} MB held"
