"""The plot of the load generator: upload → report latency against offered load, the knee marked.

The knee is the lowest offered rate at which the service stops keeping up: the graded rate
falls below 95 % of the offered one, or the p50 latency is more than twice its value at the
lowest rate.  Beyond it submissions queue, and latency grows with the length of the run
rather than with the load.
"""

from __future__ import annotations

from pathlib import Path


def knee(points: list[dict]) -> dict | None:
    """The first point (by offered rate) past which the service does not keep up, or None."""
    ordered = sorted(points, key=lambda p: p["offered"])
    if not ordered:
        return None
    base = ordered[0]["p50"]
    return next((p for p in ordered if p["achieved"] < 0.95 * p["offered"] or p["p50"] > 2 * base), None)


def plot(points: list[dict], path: Path, *, title: str) -> None:
    """``points``: ``offered`` and ``achieved`` (per second), ``p50``, ``p95``, ``p99`` (seconds)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ordered = sorted(points, key=lambda p: p["offered"])
    offered = [p["offered"] for p in ordered]
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=120)
    for key, style in (("p50", "o-"), ("p95", "s--"), ("p99", "^:")):
        ax.plot(offered, [p[key] * 1000 for p in ordered], style, label=f"{key} upload → report")
    ax.set_xlabel("offered load (submissions/s)")
    ax.set_ylabel("latency (ms)")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    right = ax.twinx()
    right.plot(offered, [p["achieved"] for p in ordered], "k.-", alpha=0.5, label="graded/s")
    right.set_ylabel("graded submissions/s")
    right.set_ylim(bottom=0)
    found = knee(ordered)
    if found is not None:
        ax.axvline(found["offered"], color="red", alpha=0.6)
        ax.annotate(f"knee: {found['offered']:g}/s", (found["offered"], found["p50"] * 1000),
                    textcoords="offset points", xytext=(6, 12), color="red")
    lines = ax.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left", fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
