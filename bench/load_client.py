"""The clients of the load generator: students uploading and long-polling their reports.

One submission is ``POST /submissions`` then ``GET /submissions/{id}?wait=30`` until the status
is ``done`` or ``failed``; its latency is from before the POST to the final answer.  Students
take turns (:class:`Students`) so that no one exceeds the service's rate limit except where a
scenario means them to.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ("dense", "lora", "toeplitz", "attention", "two_layer")
SOURCES = {ex: (ROOT / "reference" / f"{ex}.py").read_bytes() for ex in EXERCISES}


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class Students:
    """Hands out student tokens round-robin."""

    def __init__(self, tokens: list[str]):
        self._cycle = itertools.cycle(range(len(tokens)))
        self.tokens = tokens

    def next(self) -> str:
        return self.tokens[next(self._cycle)]


@dataclass
class Outcome:
    exercise: str
    token: str
    submitted: float  # perf_counter before the POST
    latency: float | None = None  # seconds to the final report; None if it never came
    status: int = 0  # the POST's HTTP status
    score: float | None = None
    max_score: float | None = None
    id: int | None = None
    finished: float | None = None  # perf_counter when the report arrived
    retries: int = 0  # requests sent again after a dropped connection

    @property
    def full_marks(self) -> bool:
        return self.score is not None and self.score == self.max_score


@dataclass
class Tally:
    outcomes: list[Outcome] = field(default_factory=list)

    def latencies(self, exercise: str | None = None) -> list[float]:
        return [o.latency for o in self.outcomes if o.latency is not None
                and (exercise is None or o.exercise == exercise)]

    def count(self, status: int) -> int:
        return sum(o.status == status for o in self.outcomes)


def client(base: str, connections: int = 256) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base + "/api/v1", timeout=httpx.Timeout(120.0),
                             limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections))


#: Tries of one request that a connection dropped (a keep-alive connection the server closed as the
#: client reused it, or one reset under load): as a careful client does, with the same Idempotency-Key.
TRIES = 3


async def _request(http: httpx.AsyncClient, out: "Outcome", method: str, url: str, **kw) -> httpx.Response:
    for attempt in range(TRIES):
        try:
            return await http.request(method, url, **kw)
        except httpx.TransportError:
            out.retries += 1
            if attempt == TRIES - 1:
                raise
    raise AssertionError("unreachable")


async def submit(http: httpx.AsyncClient, token: str, exercise: str, *, wait: bool = True) -> Outcome:
    """Upload the reference of ``exercise`` as ``token``'s student; with ``wait``, long-poll the report."""
    headers = {"Authorization": f"Bearer {token}"}
    out = Outcome(exercise, token, time.perf_counter())
    answer = await _request(http, out, "POST", "/submissions",
                            headers={**headers, "Idempotency-Key": uuid.uuid4().hex}, data={"exercise": exercise},
                            files={"file": (f"{exercise}.py", SOURCES[exercise])})
    out.status = answer.status_code
    if answer.status_code != 202:
        return out
    out.id = answer.json()["id"]
    if not wait:
        return out
    while True:
        got = await _request(http, out, "GET", f"/submissions/{out.id}", headers=headers, params={"wait": 30})
        if got.status_code != 200:
            raise RuntimeError(f"GET /submissions/{out.id}: {got.status_code} {got.text[:300]}")
        body = got.json()
        if body["status"] in ("done", "failed"):
            break
    out.latency = time.perf_counter() - out.submitted
    out.finished = time.perf_counter()
    report = body.get("report") or {}
    out.score, out.max_score = report.get("score"), report.get("max_score")
    return out


async def closed_loop(http: httpx.AsyncClient, students: Students, exercise: str, *, concurrency: int,
                      seconds: float, minimum: int = 0) -> tuple[Tally, float]:
    """``concurrency`` clients, each submitting again as soon as its report is there, for ``seconds``
    (and at least ``minimum`` submissions).  Returns the tally and the wall time it took."""
    tally = Tally()
    start = time.perf_counter()
    stop_at = start + seconds
    started = 0

    async def one_client() -> None:
        nonlocal started
        while time.perf_counter() < stop_at or started < minimum:
            started += 1
            tally.outcomes.append(await submit(http, students.next(), exercise))

    await asyncio.gather(*(one_client() for _ in range(concurrency)))
    return tally, time.perf_counter() - start


async def open_loop(http: httpx.AsyncClient, students: Students, schedule: list[tuple[float, str, str]],
                    *, wait: bool = True) -> tuple[Tally, float]:
    """Submissions at fixed times regardless of answers: ``(offset seconds, exercise, token)``."""
    tally = Tally()
    start = time.perf_counter()

    async def at(offset: float, exercise: str, token: str) -> None:
        await asyncio.sleep(max(0.0, start + offset - time.perf_counter()))
        tally.outcomes.append(await submit(http, token, exercise, wait=wait))

    await asyncio.gather(*(at(*item) for item in schedule))
    return tally, time.perf_counter() - start


def steady_schedule(rate: float, seconds: float, exercise: str, students: Students) -> list[tuple[float, str, str]]:
    """Evenly spaced arrivals at ``rate`` per second for ``seconds``."""
    return [(i / rate, exercise, students.next()) for i in range(max(1, int(rate * seconds)))]


def rate_limit_mismatches(outcomes: list[Outcome], limit: int, slack: float = 2.0) -> list[str]:
    """Answers the rate limit does not explain: a 429 for a student with fewer than ``limit``
    accepted submissions in the minute before, or a 202 for one who already had ``limit``.
    ``slack`` seconds at the window's edge allow for the time between the client's clock
    and the server's."""
    if not limit:
        return [f"429 with the rate limit off ({o.token[:10]}…)" for o in outcomes if o.status == 429]
    accepted: dict[str, list[float]] = {}
    for o in sorted(outcomes, key=lambda o: o.submitted):
        accepted.setdefault(o.token, [])
        if o.status == 202:
            accepted[o.token].append(o.submitted)
    wrong = []
    for o in outcomes:
        times = accepted.get(o.token, [])
        # Requests sent at about the same time may be served in either order: hence the slack after.
        if o.status == 429 and sum(o.submitted - 60 - slack < t < o.submitted + slack for t in times) < limit:
            wrong.append(f"429 at {o.submitted:.1f} for {o.token[:10]}… with fewer than {limit} in the minute before")
        if o.status == 202 and sum(o.submitted - 60 + slack < t < o.submitted for t in times) >= limit:
            wrong.append(f"202 at {o.submitted:.1f} for {o.token[:10]}… already at {limit} in the minute before")
    return wrong


