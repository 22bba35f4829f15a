"""Framing of messages between the trusted side and a sandbox.

A frame is a little-endian ``uint64`` length followed by that many bytes of
:func:`plain.encode` output.  The sandbox side uses :func:`send` and :func:`recv`; the
trusted side reads with its own deadline- and cap-aware loop (``session.py``) and never
trusts a length before checking it against its cap.

The conversation, in order (every message after the hello carries ``"call"``, the number
of the request it belongs to: 0 for ``load``, then 1, 2 ... for each ``call``)::

    sandbox -> {"hello": [layers planned]}                 before the source arrives
    trusted -> {"op": "load", "call": 0, "source", "filename", "limits"}
    sandbox -> {"call": 0, "layers": [layers applied]}     before the source is compiled
    sandbox -> {"call": 0, "loaded": True} | {"call": 0, "fault": [code, message]}
    trusted -> {"op": "call", "call": n, "function", "args", "kwargs"}
    sandbox -> {"call": n, "value", "mutated", "warnings"} | {"call": n, "fault": [...]}

The sandbox never sends anything else: a byte out of turn, a reply to another request,
or a frame longer than :data:`MAX_REPLY` is a protocol fault of the submission.

Imports only the standard library and ``plain`` (it also runs inside the sandbox).
"""

from __future__ import annotations

import socket
import struct
from typing import Any

try:
    from graders.framework.plain import NotPlain, decode, encode_parts
except ImportError:  # inside the sandbox: flat directory
    from plain import NotPlain, decode, encode_parts  # type: ignore[no-redef]

HEADER = struct.Struct("<Q")
SMALL_FRAME = 64 * 1024
#: The longest frame the sandbox may send (far above any exercise's result: dense's largest is
#: 3.2 MB).  The runner answers ``bad-return-type`` itself for a longer result, so a longer
#: length on the wire is never an honest one.
MAX_REPLY = 64 * 1024 * 1024
#: Exit statuses of a runner whose own code failed after the submission's ran: it replaced
#: builtins the runner relies on, or it broke the runner some other way.
EXIT_BUILTINS_REPLACED = 71
EXIT_RUNNER_BROKEN = 70


def frame_length(parts: list[bytes | memoryview]) -> int:
    """Bytes of a frame's payload (without its length prefix)."""
    return sum(len(p) if type(p) is bytes else p.nbytes for p in parts)


def frame(message: Any) -> list[bytes | memoryview]:
    """The buffers of one frame: length prefix, header, then each array's bytes.

    A small frame is joined into one buffer (one system call to send); a large one keeps
    its arrays as they are (no copy).
    """
    parts = encode_parts(message)
    length = frame_length(parts)
    parts[0] = HEADER.pack(length) + parts[0]
    if length < SMALL_FRAME and len(parts) > 1:
        return [b"".join(parts)]
    return parts


def send(sock: socket.socket, message: Any) -> None:
    for part in frame(message):
        sock.sendall(part)


def _recv_exact(sock: socket.socket, n: int) -> bytearray:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:], n - got)
        if k == 0:
            raise EOFError("channel closed")
        got += k
    return buf


def _recv_bytes(sock: socket.socket, n: int) -> bytes:
    """``n`` bytes as one immutable ``bytes`` object, received in place (no copy unless a
    signal cuts the read short)."""
    data = sock.recv(n, socket.MSG_WAITALL)
    if len(data) == n:
        return data
    parts = [data]
    got = len(data)
    while got < n:
        chunk = sock.recv(n - got, socket.MSG_WAITALL)
        if not chunk:
            raise EOFError("channel closed")
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def recv(sock: socket.socket, *, max_bytes: int, readonly: bool = False) -> Any:
    """Blocking receive (sandbox side: the trusted side is the only writer).

    With ``readonly``, arrays arrive read-only over immutable memory (``plain.decode``):
    the arguments of a student's function, which it cannot change in place.
    """
    (length,) = HEADER.unpack(_recv_bytes(sock, HEADER.size))
    if length > max_bytes:
        raise EOFError("message too large")
    if readonly:
        return decode(_recv_bytes(sock, length), max_bytes=max_bytes, readonly=True)
    return decode(_recv_exact(sock, length), max_bytes=max_bytes)
