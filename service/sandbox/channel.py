"""Framing of messages between the trusted side and a sandbox.

A frame is a little-endian ``uint64`` length followed by that many bytes of
:func:`plain.encode` output.  The sandbox side uses :func:`send` and :func:`recv`; the
trusted side reads with its own deadline- and cap-aware loop (``session.py``) and never
trusts a length before checking it against its cap.

Imports only the standard library and ``plain`` (it also runs inside the sandbox).
"""

from __future__ import annotations

import socket
import struct
from typing import Any

try:
    from graders.framework.plain import decode, encode_parts
except ImportError:  # inside the sandbox: flat directory
    from plain import decode, encode_parts  # type: ignore[no-redef]

HEADER = struct.Struct("<Q")


SMALL_FRAME = 64 * 1024


def frame(message: Any) -> list[bytes | memoryview]:
    """The buffers of one frame: length prefix, header, then each array's bytes.

    A small frame is joined into one buffer (one system call to send); a large one keeps
    its arrays as they are (no copy).
    """
    parts = encode_parts(message)
    length = sum(len(p) if type(p) is bytes else p.nbytes for p in parts)
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


def recv(sock: socket.socket, *, max_bytes: int) -> Any:
    """Blocking receive (sandbox side: the trusted side is the only writer)."""
    (length,) = HEADER.unpack(_recv_exact(sock, HEADER.size))
    if length > max_bytes:
        raise EOFError("message too large")
    return decode(_recv_exact(sock, length), max_bytes=max_bytes)
