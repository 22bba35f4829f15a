"""What every bench needs of a ``nngrade serve`` (or ``nngrade worker``) it starts: a free port,
the wait until it answers, and a stop that lets it finish (SIGTERM) before it is killed."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterable

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(base: str, *, seconds: float = 60.0) -> bool:
    """Whether ``base``/healthz answered 200 within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return True
        except httpx.TransportError:
            time.sleep(0.1)
    return False


def stop(processes: Iterable[subprocess.Popen], *, timeout: float = 60.0) -> None:
    """SIGTERM each (in the order given), then wait for each; kill what outlives ``timeout``."""
    processes = list(processes)
    for p in processes:
        p.send_signal(signal.SIGTERM)
    for p in processes:
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
