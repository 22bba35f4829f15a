"""What every bench needs of a ``nngrade serve`` (or ``nngrade worker``) it starts: a free port,
the wait until it answers, a probe that times it from a process of its own, and a stop that lets
it finish (SIGTERM) before it is killed."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
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


#: The probe's own process: one line per request, ``offset seconds ok``, until its stdin closes.
PROBE = """
import sys, threading, time
import httpx
done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
base, path, interval, token = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
headers = {"Authorization": f"Bearer {token}"} if token else {}
started = time.monotonic()
with httpx.Client(base_url=base, headers=headers, timeout=30.0) as http:
    while not done.is_set():
        t = time.perf_counter()
        offset = time.monotonic() - started
        try:
            ok = http.get(path).status_code == 200
        except httpx.HTTPError:
            ok = False
        print(f"{offset:.3f} {time.perf_counter() - t:.6f} {int(ok)}", flush=True)
        done.wait(max(0.0, interval - (time.perf_counter() - t)))
"""


class Probe:
    """``GET path`` every ``interval`` seconds on one keep-alive connection, from a process of its own:
    the load generator's thousands of tasks must not delay the probe's clock (in one event loop, the
    generator's own work would be counted as the service's latency)."""

    def __init__(self, base: str, path: str = "/healthz", *, interval: float = 0.1, token: str = ""):
        self.args = [base, path, str(interval), token]
        self.latencies: list[float] = []
        #: (seconds after the probe started, latency) of every answer of 100 ms or more
        self.slow: list[tuple[float, float]] = []
        self.failures = 0
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        self._process = subprocess.Popen([sys.executable, "-c", PROBE, *self.args],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    async def stop(self) -> None:
        if self._process is None:
            return
        out, _ = await asyncio.to_thread(self._process.communicate, "", 60)
        for line in out.splitlines():
            offset, seconds, ok = line.split()
            self.latencies.append(float(seconds))
            if float(seconds) >= 0.1:
                self.slow.append((float(offset), float(seconds)))
            self.failures += ok != "1"
