"""A real ``nngrade serve`` for the load generator: fresh data directory, free port, many tokens.

Tokens are made with :func:`service.db.tokens.create_token` in one transaction, the function
``nngrade token create`` calls, because 500 runs of the CLI would take minutes of interpreter
start-up before the first request.  The server's settings are read back with
``nngrade config --json`` under the server's own environment, so the checks of the bench
(the rate limit of the spike) hold the settings the server really ran with.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from load_cpu import profiled_command
from serving import free_port

ROOT = Path(__file__).resolve().parents[1]


def make_tokens(data_dir: Path, students: int) -> tuple[list[str], str]:
    """``students`` student tokens and one instructor token in a fresh database in ``data_dir``."""
    from service.config import Settings
    from service.db import Database
    from service.db.migrate import upgrade
    from service.db.tokens import create_token

    db = Database.from_settings(Settings(data_dir=data_dir))
    try:
        upgrade(db)
        with db.write_session() as session:
            tokens = [create_token(session, name=f"student-{i:04d}", role="student")[1] for i in range(students)]
            instructor = create_token(session, name="bench-instructor", role="instructor")[1]
    finally:
        db.dispose()
    return tokens, instructor


class PeakMemory:
    """Samples the RSS of a process (and, apart, of its descendants: the sandboxes) every ``interval``."""

    def __init__(self, pid: int, interval: float = 0.1):
        self.process = psutil.Process(pid)
        self.interval = interval
        self.service_peak = 0
        self.tree_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                own = self.process.memory_info().rss
                rest = 0
                for child in self.process.children(recursive=True):
                    try:
                        rest += child.memory_info().rss
                    except psutil.Error:
                        pass
            except psutil.Error:
                return
            self.service_peak = max(self.service_peak, own)
            self.tree_peak = max(self.tree_peak, own + rest)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Service:
    """A running ``nngrade serve``; ``settings`` as ``nngrade config --json`` prints them."""

    process: subprocess.Popen
    base: str
    data_dir: Path
    env: dict[str, str]
    tokens: list[str]
    instructor: str
    settings: dict = field(default_factory=dict)
    memory: PeakMemory | None = None
    #: The server's own pid (the child of py-spy when it runs under the profiler).
    pid: int = 0

    def stop(self) -> None:
        if self.memory is not None:
            self.memory.stop()
        try:
            os.kill(self.pid, signal.SIGTERM)  # py-spy writes its profile when its child exits
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_service(*, students: int, extra_env: dict[str, str] | None = None,
                  profile: Path | None = None) -> Service:
    """``nngrade serve`` on its embedded default (SQLite, in-process workers, the sandbox pool);
    under py-spy, its raw stacks written to ``profile``, when that is given."""
    data_dir = Path(tempfile.mkdtemp(prefix="nngrade-load-"))
    tokens, instructor = make_tokens(data_dir, students)
    port = free_port()
    env = {**os.environ, "NNGRADE_DATA_DIR": str(data_dir), "NNGRADE_PORT": str(port),
           "NNGRADE_LOG_LEVEL": "warning", **(extra_env or {})}
    env.pop("DATABASE_URL", None)
    env.pop("NNGRADE_BROKER_URL", None)
    shown = subprocess.run([sys.executable, "-m", "nngrade", "config", "--json"], env=env, cwd=data_dir,
                           capture_output=True, text=True, check=True)
    command = [sys.executable, "-m", "nngrade", "serve"]
    if profile is not None:
        command = profiled_command(command, profile)
    process = subprocess.Popen(command, env=env, cwd=data_dir, stdout=subprocess.DEVNULL,
                               stderr=open(data_dir / "serve.log", "wb"))
    base = f"http://127.0.0.1:{port}"
    service = Service(process, base, data_dir, env, tokens, instructor, json.loads(shown.stdout), pid=process.pid)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nngrade serve exited: {(data_dir / 'serve.log').read_text()[-2000:]}")
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    else:
        service.stop()
        raise RuntimeError("nngrade serve did not become ready within 120 s")
    if profile is not None:
        service.pid = psutil.Process(process.pid).children()[0].pid
    service.memory = PeakMemory(service.pid)
    return service
