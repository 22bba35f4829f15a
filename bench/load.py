"""End-to-end load on a real ``nngrade serve``: upload → report over HTTP, as students meet it.

Run:  .venv/bin/python bench/load.py            # the full run: 20 min on a loaded 2-core machine,
                                                #   mostly the spike's drain; under 8 expected idle
      .venv/bin/python bench/load.py --quick    # a smoke test (concurrency 1 and 8 only), about 2 minutes
      .venv/bin/python bench/load.py --spike [--spike-n 600 --spike-seconds 20]   # only the deadline spike
      .venv/bin/python bench/load.py --cpu-only --profile /tmp/serve.txt          # only the CPU split

It starts ``nngrade serve`` on its embedded default (SQLite, grading workers in the process,
the sandbox pool with every layer) on a free port with a fresh data directory and 1,101 student
tokens (600 for the closed and open loops, 500 for the spike, one rate-limit probe), then measures, for each exercise's reference solution, ``POST /submissions`` followed
by ``GET /submissions/{id}?wait=30`` until the report is there: p50/p95/p99 at concurrency 1,
8 and 64 (closed loop: each client submits again once its report is there); sustained
throughput; an open-loop sweep of offered load with the knee marked (PNG into docs/); the
CPU time per submission split into HTTP, database, queue hand-off, sandbox and grading (a
second server under py-spy, see ``load_cpu``); the service's peak RSS; the deadline spike
(2,000 submissions from 500 students within one minute, the five exercises mixed); and, in
the same run, the naive design and the in-process floor (``load_baselines``).  It prints
Markdown tables ready for docs/benchmarks.md.

Why asyncio and httpx rather than locust: one client process holds thousands of concurrent
long-polls without a thread each (the spike keeps up to 2,000 open), the open-loop
arrivals are scheduled on one clock, and no second framework (gevent, locust's web UI and
workers) competes with the server for the machine's two cores.  The client shares the
machine with the server, so its CPU is part of what limits the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

import load_baselines
import load_cpu
from load_client import EXERCISES, Students, Tally, client, closed_loop, open_loop, pct, rate_limit_mismatches
from load_client import steady_schedule, submit
from load_plot import knee, plot
from load_service import ROOT, Service, start_service
from serving import Probe

#: Students of every part but the spike, which has its own.
STUDENTS = 600


@dataclass(frozen=True)
class Plan:
    """How long each part runs."""

    floor_n: int = 30
    naive_n: int = 4
    concurrencies: tuple = (1, 8, 64)
    closed_seconds: float = 5.0
    sustained_seconds: float = 20.0
    sweep_rates: tuple = (5, 10, 20, 30, 40, 50, 60, 80)
    sweep_seconds: float = 6.0
    spike_n: int = 2000
    spike_students: int = 500
    spike_seconds: float = 60.0
    cpu_seconds: float = 10.0


FULL = Plan()
QUICK = Plan(floor_n=3, naive_n=1, concurrencies=(1, 8), closed_seconds=1.0, sustained_seconds=2.0,
             sweep_rates=(5, 20), sweep_seconds=1.5, spike_n=100, spike_students=25, spike_seconds=10.0,
             cpu_seconds=2.0)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def summary(tally: Tally, seconds: float) -> dict:
    lat = tally.latencies()
    return {"n": len(lat), "p50": pct(lat, .5), "p95": pct(lat, .95), "p99": pct(lat, .99),
            "per_second": len(lat) / seconds, "refused": len(tally.outcomes) - tally.count(202),
            "short": sum(1 for o in tally.outcomes if o.latency is not None and not o.full_marks),
            "retries": sum(o.retries for o in tally.outcomes)}


async def latencies(service: Service, students: Students, plan: Plan, log: list) -> dict:
    """Closed loop per exercise and concurrency, after a warm-up."""
    results = {}
    async with client(service.base) as http:
        for exercise in EXERCISES:
            # The warm-up fills the references' caches in the service.
            log.append(await submit(http, students.next(), exercise))
            for c in plan.concurrencies:
                tally, seconds = await closed_loop(http, students, exercise, concurrency=c,
                                                   seconds=plan.closed_seconds, minimum=c)
                log.extend(tally.outcomes)
                results[(exercise, c)] = summary(tally, seconds)
                r = results[(exercise, c)]
                print(f"  {exercise:<9} c={c:<3} n={r['n']:<5} p50={ms(r['p50'])} p95={ms(r['p95'])} "
                      f"p99={ms(r['p99'])} {r['per_second']:.1f}/s", flush=True)
    return results


async def sustained(service: Service, students: Students, plan: Plan, log: list) -> dict:
    async with client(service.base) as http:
        tally, seconds = await closed_loop(http, students, "dense", concurrency=64, seconds=plan.sustained_seconds)
    log.extend(tally.outcomes)
    return summary(tally, seconds)


async def sweep(service: Service, students: Students, plan: Plan, log: list) -> list[dict]:
    """Open loop at each offered rate of ``dense``; every submission's report awaited before the next rate.
    Stops one rate after the knee: beyond it latency only measures the queue the run itself builds."""
    points = []
    async with client(service.base, connections=4096) as http:
        for rate in plan.sweep_rates:
            found = knee(points)
            if found is not None and found is not points[-1]:
                break
            tally, _ = await open_loop(http, students, steady_schedule(rate, plan.sweep_seconds, "dense", students))
            log.extend(tally.outcomes)
            done = [o for o in tally.outcomes if o.finished is not None]
            first = min(o.submitted for o in tally.outcomes)
            achieved = len(done) / (max(o.finished for o in done) - first) if done else 0.0
            lat = tally.latencies()
            points.append({"offered": rate, "achieved": achieved, "p50": pct(lat, .5), "p95": pct(lat, .95),
                           "p99": pct(lat, .99), "refused": len(tally.outcomes) - tally.count(202)})
            print(f"  offered {rate}/s: graded {achieved:.1f}/s, p50={ms(points[-1]['p50'])} "
                  f"p95={ms(points[-1]['p95'])}", flush=True)
    return points


async def spike(service: Service, crowd: list[str], probe: str, plan: Plan, log: list) -> dict:
    """``spike_n`` submissions from the ``crowd`` (students who have not submitted before) within
    ``spike_seconds``, the exercises mixed, and one more student (``probe``) who sends ``rate_limit + 3``
    at once: exactly 3 of those must be 429."""
    limit = int(service.settings["rate_limit"])
    schedule = [(i * plan.spike_seconds / plan.spike_n, EXERCISES[(i + i // len(crowd)) % len(EXERCISES)],
                 crowd[i % len(crowd)]) for i in range(plan.spike_n)]
    probe_n = limit + 3 if limit else 0
    health = Probe(service.base)
    health.start()
    async with client(service.base, connections=4096) as http:
        # The probe does not wait for its reports: one student may hold only a few long-polls.
        (tally, _), (probed, _) = await asyncio.gather(
            open_loop(http, Students(crowd), schedule),
            open_loop(http, Students([probe]), [(1.0, "dense", probe)] * probe_n, wait=False))
    await health.stop()
    tally.outcomes += probed.outcomes
    log.extend(tally.outcomes)
    crowd_out = [o for o in tally.outcomes if o.token != probe]
    done = [o for o in crowd_out if o.finished is not None]
    first = min(o.submitted for o in tally.outcomes)
    last_arrival = max(o.submitted for o in tally.outcomes)
    last_done = max(o.finished for o in done)
    after = [o for o in done if o.finished > last_arrival]
    return {"submitted": len(crowd_out), "accepted": sum(o.status == 202 for o in crowd_out),
            "graded": len(done), "full_marks": sum(o.full_marks for o in done),
            "probe_sent": probe_n, "probe_429": sum(o.status == 429 for o in tally.outcomes if o.token == probe),
            "expected_probe_429": 3 if limit else 0, "limit": limit,
            "other_refused": sum(o.status != 202 for o in crowd_out),
            "arrival_seconds": last_arrival - first, "last_report_seconds": last_done - first,
            "overall_rate": len(done) / (last_done - first),
            "drain_rate": len(after) / (last_done - last_arrival) if len(after) > 1 else float("nan"),
            "backlog_at_last_arrival": len(after),
            "p50": pct([o.latency for o in done], .5), "p99": pct([o.latency for o in done], .99),
            "health_n": len(health.latencies), "health_p50": pct(health.latencies, .5),
            "health_max": max(health.latencies, default=float("nan")),
            "health_over_100ms": sum(x > 0.1 for x in health.latencies), "health_failures": health.failures,
            "retries": sum(o.retries for o in tally.outcomes)}


def audit(service: Service, expected: int) -> dict:
    """Every submission the server holds, as the instructor lists them: all graded, at full marks?"""
    states: dict[str, int] = {}
    short = []
    offset = 0
    with httpx.Client(base_url=service.base + "/api/v1", timeout=120,
                      headers={"Authorization": f"Bearer {service.instructor}"}) as http:
        while True:
            page = http.get("/submissions", params={"limit": 1000, "offset": offset}).json()
            for item in page["items"]:
                states[item["status"]] = states.get(item["status"], 0) + 1
                if item["status"] == "done" and item["score"] != item["max_score"]:
                    short.append((item["id"], item["exercise"], item["score"], item["max_score"]))
            offset += len(page["items"])
            if offset >= page["total"] or not page["items"]:
                break
    return {"held": offset, "expected": expected, "states": states, "short": short}


async def cpu_split(plan: Plan, profile: Path, exercise: str = "dense", concurrency: int = 8) -> dict | None:
    """CPU per submission of ``exercise`` at ``concurrency``, on a second server run under py-spy
    (its raw stacks kept in ``profile``)."""
    if load_cpu.py_spy() is None:
        print("  (no py-spy: the CPU split is skipped; pip install py-spy)")
        return None
    service = start_service(students=200, profile=profile)
    students = Students(service.tokens)
    try:
        async with client(service.base) as http:
            await closed_loop(http, students, exercise, concurrency=concurrency, seconds=1.0)  # warm
            before = load_cpu.snapshot(service.pid)
            tally, seconds = await closed_loop(http, students, exercise, concurrency=concurrency,
                                               seconds=plan.cpu_seconds)
            after = load_cpu.snapshot(service.pid)
    finally:
        service.stop()
        shutil.rmtree(service.data_dir, ignore_errors=True)
    samples = load_cpu.categorize(profile.read_text())
    graded = len(tally.latencies())
    split = load_cpu.split(before, after, samples, graded)
    split["graded_per_second"] = graded / seconds
    split["samples"] = sum(samples.values())
    return split


def markdown(r: dict) -> str:
    out = [f"Machine: {r['machine']}. Run {r['when']}, {r['mode']}.", ""]
    out += ["| exercise | concurrency | graded | p50 | p95 | p99 | graded/s |", "|---|---|---|---|---|---|---|"]
    for (exercise, c), s in r["latency"].items():
        out.append(f"| {exercise} | {c} | {s['n']} | {ms(s['p50'])} | {ms(s['p95'])} | {ms(s['p99'])} | "
                   f"{s['per_second']:.1f} |")
    out += ["", "| exercise | floor p50 (in-process) | nngrade p50, c=1 | × floor | naive p50 | naive /s | "
                "nngrade /s (best c) | × naive |", "|---|---|---|---|---|---|---|---|"]
    for exercise in EXERCISES:
        f, n = r["floor"][exercise], r["naive"][exercise]
        c1 = r["latency"][(exercise, 1)]
        best = max(s["per_second"] for (e, _), s in r["latency"].items() if e == exercise)
        out.append(f"| {exercise} | {ms(f['p50'])} | {ms(c1['p50'])} | {c1['p50'] / f['p50']:.1f} | "
                   f"{ms(n['p50'])} | {n['per_second']:.1f} | {best:.1f} | {best / n['per_second']:.1f} |")
    s = r["sustained"]
    out += ["", f"Sustained, `dense`, 64 clients for {r['plan']['sustained_seconds']:g} s: **{s['per_second']:.1f} "
                f"graded/s**, p50 {ms(s['p50'])}, p99 {ms(s['p99'])}; peak RSS of the service process "
                f"{r['rss_service_mb']:.0f} MB ({r['rss_tree_mb']:.0f} MB with its sandboxes).", ""]
    out += ["| offered /s (`dense`, open loop) | graded /s | p50 | p95 | p99 |", "|---|---|---|---|---|"]
    for p in r["sweep"]:
        out.append(f"| {p['offered']} | {p['achieved']:.1f} | {ms(p['p50'])} | {ms(p['p95'])} | {ms(p['p99'])} |")
    k = r["knee"]
    out += ["", f"Knee: {k['offered']}/s offered." if k else "Knee: not reached at the rates tried.", ""]
    if r.get("cpu"):
        c = r["cpu"]
        out += ["| CPU per `dense` submission (c=8) | ms |", "|---|---|"]
        out += [f"| {part} | {c[part]:.2f} |" for part in load_cpu.PARTS]
        out += [f"| **total** | **{c['total']:.2f}** |",
                f"| of the sandbox part, inside the sandboxes (cgroups) | {c['sandbox inside (cgroup)']:.2f} |", ""]
    sp = r["spike"]
    out += ["| deadline spike | |", "|---|---|",
            f"| submitted (crowd) | {sp['submitted']} in {sp['arrival_seconds']:.1f} s |",
            f"| accepted / graded / full marks | {sp['accepted']} / {sp['graded']} / {sp['full_marks']} |",
            f"| refused outside the probe | {sp['other_refused']} |",
            f"| requests sent again after a dropped connection (whole run) | {r['retries']} |",
            f"| probe: {sp['probe_sent']} at once, limit {sp['limit']}/min | {sp['probe_429']} × 429 "
            f"(expected {sp['expected_probe_429']}) |",
            f"| 429s the rate limit does not explain (whole run) | {len(r['rate_mismatches'])} |",
            f"| last report after | {sp['last_report_seconds']:.1f} s |",
            f"| graded/s overall; drain after the last arrival | {sp['overall_rate']:.1f}; {sp['drain_rate']:.1f} |",
            f"| predicted from the closed-loop figures (the mix) | {r['predicted_mix_rate']:.1f} |",
            f"| upload → report p50 / p99 | {ms(sp['p50'])} / {ms(sp['p99'])} |",
            f"| /healthz: samples, p50, max, over 100 ms | {sp['health_n']}, {ms(sp['health_p50'])}, "
            f"{ms(sp['health_max'])}, {sp['health_over_100ms']} |",
            f"| held by the server / expected; states | {r['audit']['held']} / {r['audit']['expected']}; "
            f"{r['audit']['states']} |", ""]
    return "\n".join(out)


def predicted_mix(latency: dict) -> float:
    """Graded/s of an even mix of the exercises, from each one's best closed-loop rate (harmonic mean)."""
    best = {e: max(s["per_second"] for (x, _), s in latency.items() if x == e) for e in EXERCISES}
    return len(EXERCISES) / sum(1 / best[e] for e in EXERCISES)


async def run(plan: Plan, mode: str, *, spike_only: bool, plot_path: Path | None, profile: Path | None) -> dict:
    r: dict = {"machine": f"{platform.node()}, {os.cpu_count()} cores, {platform.platform()}, Python "
                          f"{platform.python_version()}", "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "mode": mode, "plan": {"sustained_seconds": plan.sustained_seconds}}
    workdir = Path(tempfile.mkdtemp(prefix="nngrade-load-run-"))
    print(f"the servers' logs go to {workdir}", flush=True)
    log: list = []
    if not spike_only:
        print("baselines: in-process floor, naive process per submission", flush=True)
        r["floor"] = {e: load_baselines.floor(e, plan.floor_n) for e in EXERCISES}
        r["naive"] = {e: load_baselines.naive(e, plan.naive_n) for e in EXERCISES}
    service = start_service(students=STUDENTS + plan.spike_students + 1)
    crowd, probe = service.tokens[STUDENTS:STUDENTS + plan.spike_students], service.tokens[-1]
    try:
        students = Students(service.tokens[:STUDENTS])
        if not spike_only:
            print("closed loop per exercise and concurrency", flush=True)
            r["latency"] = await latencies(service, students, plan, log)
            print("sustained", flush=True)
            r["sustained"] = await sustained(service, students, plan, log)
            print("offered-load sweep", flush=True)
            r["sweep"] = await sweep(service, students, plan, log)
            r["knee"] = knee(r["sweep"])
        print("deadline spike", flush=True)
        r["spike"] = await spike(service, crowd, probe, plan, log)
        r["audit"] = audit(service, sum(o.status == 202 for o in log))
        r["rate_mismatches"] = rate_limit_mismatches(log, int(service.settings["rate_limit"]))
        r["retries"] = sum(o.retries for o in log)
    finally:
        service.stop()
        r["rss_service_mb"] = service.memory.service_peak / 2**20
        r["rss_tree_mb"] = service.memory.tree_peak / 2**20
        shutil.copy(service.data_dir / "serve.log", workdir / "serve.log")
        shutil.rmtree(service.data_dir, ignore_errors=True)
    if not spike_only:
        print("CPU split (a second server under py-spy)", flush=True)
        r["cpu"] = await cpu_split(plan, profile or workdir / "serve.pyspy.txt")
        r["predicted_mix_rate"] = predicted_mix(r["latency"])
        if plot_path is not None:
            plot(r["sweep"], plot_path, title=f"nngrade serve, dense, open loop ({mode}, {r['when']})")
    else:
        r["predicted_mix_rate"] = float("nan")
    r["workdir"] = str(workdir)  # the server's log, kept
    return r


def verdict(r: dict) -> list[str]:
    """What the run found wrong: lost or unfinished submissions, points lost, unexplained 429s, slow /healthz."""
    sp, au = r["spike"], r["audit"]
    wrong = []
    if au["held"] != au["expected"] or set(au["states"]) - {"done"}:
        wrong.append(f"submissions lost or unfinished: held {au['held']} of {au['expected']}, {au['states']}")
    if au["short"]:
        wrong.append(f"reports short of full marks: {au['short'][:10]}")
    if sp["graded"] != sp["accepted"] or sp["other_refused"]:
        wrong.append(f"spike: {sp['accepted']} accepted, {sp['graded']} graded, {sp['other_refused']} refused")
    if sp["probe_429"] != sp["expected_probe_429"] or r["rate_mismatches"]:
        wrong.append(f"429s: probe {sp['probe_429']} (expected {sp['expected_probe_429']}); "
                     f"{r['rate_mismatches'][:5]}")
    if sp["health_over_100ms"] or sp["health_failures"]:
        wrong.append(f"/healthz: {sp['health_over_100ms']} answers over 100 ms, {sp['health_failures']} failed")
    return wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke test: every part, briefly")
    parser.add_argument("--spike", action="store_true", help="only the deadline spike")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "load-latency.png",
                        help="where the latency-against-load PNG goes (default docs/load-latency.png)")
    parser.add_argument("--json", type=Path, help="also write every figure as JSON here")
    parser.add_argument("--profile", type=Path, help="keep the CPU split's py-spy stacks here (raw format)")
    parser.add_argument("--spike-n", type=int, help="submissions of the spike (default 2000; --quick 100)")
    parser.add_argument("--spike-seconds", type=float, help="the spike's length (default 60 s; --quick 10 s)")
    parser.add_argument("--cpu-only", action="store_true", help="only the CPU split (with --profile: to profile)")
    parser.add_argument("--cpu-exercise", default="dense", choices=EXERCISES, help="the CPU split's exercise")
    parser.add_argument("--cpu-concurrency", type=int, default=8, help="the CPU split's clients")
    args = parser.parse_args()
    plan, mode = (QUICK, "quick") if args.quick else (FULL, "full")
    if args.spike_n or args.spike_seconds:  # four submissions a student, as in the default spike
        n = args.spike_n or plan.spike_n
        plan = replace(plan, spike_n=n, spike_students=max(1, n // 4), spike_seconds=args.spike_seconds or
                       plan.spike_seconds)
        mode += f", spike of {n} in {plan.spike_seconds:g} s"
    if args.cpu_only:
        cpu = asyncio.run(cpu_split(plan, args.profile or Path(tempfile.mkdtemp()) / "serve.pyspy.txt",
                                    args.cpu_exercise, args.cpu_concurrency))
        print(json.dumps(cpu, indent=2))
        return
    r = asyncio.run(run(plan, mode, spike_only=args.spike, plot_path=args.plot, profile=args.profile))
    if args.json:
        args.json.write_text(json.dumps({k: ({f"{e}/{c}": v for (e, c), v in r[k].items()} if k == "latency" else v)
                                         for k, v in r.items()}, indent=2, default=str))
    if not args.spike:
        print("\n" + markdown(r))
    else:
        print(json.dumps(r["spike"], indent=2), json.dumps(r["audit"], indent=2))
    wrong = verdict(r)
    for line in wrong:
        print("FAILED:", line)
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
