"""Does the service stay responsive under long-polls and a submission spike?

Run:  .venv/bin/python bench/bench_healthz.py [--waiters 1000] [--submitters 50] [--seconds 40] [--grade]

Starts a live ``nngrade serve`` (the embedded default: SQLite in a temporary data directory) on a
free loopback port, makes its tokens, and then, all at once for ``--seconds``:

* ``--waiters`` concurrent ``GET /submissions/{id}?wait=30``, each waiting on a queued submission of
  its student, spread over just enough students to stay within the per-user cap
  (``long_poll_per_user``); each waiter asks again as soon as its wait ends;
* one more student opening twice the cap of waits at once: the cap refuses the excess (429), the
  rest are held (counted in "waits still held at the end");
* ``--submitters`` students each posting a correct ``dense`` submission in a loop (no rate limit);
* one probe asking ``/healthz``, another ``/api/v1/me``, one request at a time each, every 20 ms, each
  from a process of its own (in this one, the load's own work would be counted as the service's).

It prints a Markdown table of the latency of ``/healthz``, ``/me`` and the submitters' POSTs
(p50 / p95 / max), idle first and then under the load, the counts behind it, and when the
``/healthz`` answers of 100 ms or more came.

Without ``--grade`` the service grades nothing (``NNGRADE_GRADE_IN_PROCESS=false``, as the API
process of the scaled-out topology), so every long-poll is held for its whole 30 s: the heaviest
case for the event loop.  With ``--grade`` it also grades in its own process, as on the
embedded default: the submitters' work is graded while they submit, but the waited-for
submissions are graded within seconds, and then their waiters (and the capped student's)
get their answers and stop: the long-polls are held only at the start.  The client runs on
the same machine: on a small machine its own CPU use is part of the load.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench_scaleout import pct  # the script's folder is on sys.path
from serving import Probe, free_port, stop, wait_healthy

ROOT = Path(__file__).resolve().parents[1]
SOURCE = (ROOT / "reference" / "dense.py").read_bytes()
PER_USER = 8  # the service's default long_poll_per_user; the bench sets it explicitly


@dataclass
class Samples:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    #: (seconds into the run, latency) of the /healthz answers of 100 ms or more
    slow: list[tuple[float, float]] = field(default_factory=list)

    def add(self, name: str, seconds: float) -> None:
        self.latencies.setdefault(name, []).append(seconds)

    async def probed(self, probes: dict[str, Probe]) -> None:
        """Stop the probes and take their figures (a non-200 answer is counted as ``NAME not 200``)."""
        for name, probe in probes.items():
            await probe.stop()
            self.latencies[name] = probe.latencies
            if probe.failures:
                self.counts[f"{name} not 200"] = probe.failures
        self.slow = probes["/healthz"].slow

    def count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1


def make_tokens(env: dict[str, str], names: list[str]) -> list[str]:
    """Student tokens made in the service's database (as ``nngrade token create`` does), before it starts."""
    os.environ.update({k: v for k, v in env.items() if k.startswith("NNGRADE_")})
    from service.config import get_settings
    from service.db import Database
    from service.db.migrate import upgrade
    from service.db.tokens import create_token

    db = Database.from_settings(get_settings())
    try:
        upgrade(db)
        with db.write_session() as session:
            return [create_token(session, name=name, role="student")[1] for name in names]
    finally:
        db.dispose()


def probes(base: str, token: str) -> dict[str, Probe]:
    started = {"/healthz": Probe(base, "/healthz", interval=0.02),
               "/me": Probe(base, "/api/v1/me", interval=0.02, token=token)}
    for probe in started.values():
        probe.start()
    return started


async def wait_loop(client: httpx.AsyncClient, sid: int, samples: Samples, until: float) -> None:
    while time.monotonic() < until:
        response = await client.get(f"/submissions/{sid}", params={"wait": 30})
        samples.count(f"wait {response.status_code}")
        if response.status_code == 200 and response.json()["status"] in ("done", "failed"):
            return


async def submit_loop(client: httpx.AsyncClient, samples: Samples, until: float) -> None:
    while time.monotonic() < until:
        t = time.perf_counter()
        response = await client.post("/submissions", data={"exercise": "dense"}, files={"file": ("dense.py", SOURCE)})
        samples.add("POST /submissions", time.perf_counter() - t)
        samples.count(f"submit {response.status_code}")


async def capped_wait(client: httpx.AsyncClient, sid: int, samples: Samples) -> None:
    """One of the capped student's waits; counted as it answers (the held ones answer after the run)."""
    response = await client.get(f"/submissions/{sid}", params={"wait": 30})
    samples.count(f"capped student {response.status_code}")


async def run(base: str, tokens: dict[str, list[str]], args) -> tuple[Samples, Samples]:
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)

    def client(token: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=base + "/api/v1", headers={"Authorization": f"Bearer {token}"},
                                 timeout=120, limits=limits)

    waiting = [client(t) for t in tokens["waiting"]]
    capped = client(tokens["capped"][0])
    submitters = [client(t) for t in tokens["submitters"]]
    # one queued submission for each waiting student (and the capped one) to wait on
    waited = [(await c.post("/submissions", data={"exercise": "dense"},
                            files={"file": ("dense.py", SOURCE)})).json()["id"] for c in waiting + [capped]]
    idle = Samples()
    running = probes(base, tokens["submitters"][0])
    await asyncio.sleep(3)
    await idle.probed(running)
    loaded = Samples()
    running = probes(base, tokens["submitters"][0])
    until = time.monotonic() + args.seconds
    held = [asyncio.create_task(wait_loop(waiting[i // PER_USER], waited[i // PER_USER], loaded, until))
            for i in range(args.waiters)]
    held += [asyncio.create_task(capped_wait(capped, waited[-1], loaded)) for _ in range(2 * PER_USER)]
    await asyncio.gather(*(submit_loop(c, loaded, until) for c in submitters))
    await loaded.probed(running)
    loaded.counts["waits still held at the end"] = sum(not t.done() for t in held)
    for task in held:  # the measurement is over: do not sit out the rest of their 30 s
        task.cancel()
    await asyncio.gather(*held, return_exceptions=True)
    for c in [*waiting, capped, *submitters]:
        await c.aclose()
    return idle, loaded


def row(label: str, name: str, samples: Samples) -> str:
    values = samples.latencies.get(name, [])
    if not values:
        return f"| {label} | {name} | 0 | – | – | – |"
    return (f"| {label} | {name} | {len(values)} | {pct(values, 0.5) * 1000:.1f} ms | {pct(values, 0.95) * 1000:.1f} ms "
            f"| {max(values) * 1000:.1f} ms |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--waiters", type=int, default=1000)
    parser.add_argument("--submitters", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--grade", action="store_true", help="grade in the service process too")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nngrade-bench-healthz-"))
    port = free_port()
    env = {**os.environ, "NNGRADE_DATA_DIR": str(work / "data"), "NNGRADE_PORT": str(port),
           "NNGRADE_RATE_LIMIT": "0", "NNGRADE_QUEUE_MAX": "1000000", "NNGRADE_LOG_LEVEL": os.environ.get("NNGRADE_LOG_LEVEL", "warning"),
           "NNGRADE_LONG_POLL_PER_USER": str(PER_USER), "NNGRADE_GRADE_IN_PROCESS": str(args.grade).lower()}
    env.pop("DATABASE_URL", None)
    students = math.ceil(args.waiters / PER_USER)
    names = {"waiting": [f"w{i}" for i in range(students)], "capped": ["capped"],
             "submitters": [f"s{i}" for i in range(args.submitters)]}
    made = iter(make_tokens(env, [n for group in names.values() for n in group]))
    tokens = {group: [next(made) for _ in members] for group, members in names.items()}
    with open(work / "serve.log", "wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "nngrade", "serve"], env=env, cwd=work,
                                  stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        if not wait_healthy(base):
            raise SystemExit(f"nngrade serve did not start; see {work / 'serve.log'}")
        idle, loaded = asyncio.run(run(base, tokens, args))
    finally:
        stop([server])
    print(f"# {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}; {args.waiters} waiters "
          f"over {students} students (cap {PER_USER}), {args.submitters} submitters, {args.seconds:g} s, "
          f"grading {'in the service' if args.grade else 'off'}")
    print("| load | request | samples | p50 | p95 | max |")
    print("|---|---|---|---|---|---|")
    for name in ("/healthz", "/me"):
        print(row("idle", name, idle))
    for name in ("/healthz", "/me", "POST /submissions"):
        print(row("under load", name, loaded))
    print("counts: " + ", ".join(f"{k} {v}" for k, v in sorted(loaded.counts.items())))
    print(f"/healthz answers of 100 ms or more: {len(loaded.slow)}" + "".join(
        f"{', ' if i else ' ('}{latency * 1000:.0f} ms at {at:.1f} s" for i, (at, latency) in enumerate(loaded.slow[:20]))
          + (")" if loaded.slow else ""))


if __name__ == "__main__":
    main()
