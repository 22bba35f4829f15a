"""Charts as inline SVG, drawn on the server: a title, axis labels and a text alternative each.

Every text that enters the SVG goes through :func:`markupsafe.escape`; the colours are
attributes, not inline styles, so the page's Content-Security-Policy needs no ``unsafe-inline``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 560, 240
LEFT, RIGHT, TOP, BOTTOM = 66, 16, 42, 44
PALETTE = ("#2563eb", "#d97706", "#059669", "#db2777", "#7c3aed", "#0891b2")

_ids = itertools.count(1)


def _frame(title: str, description: str, body: list[str], x_label: str, y_label: str) -> Markup:
    n = next(_ids)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="chart-t{n} chart-d{n}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-t{n}">{escape(title)}</title>',
        f'<desc id="chart-d{n}">{escape(description)}</desc>',
        f'<text x="{WIDTH / 2}" y="18" text-anchor="middle" class="chart-title">{escape(title)}</text>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="#555"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#555"/>',
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 6}" text-anchor="middle" class="chart-axis">'
        f'{escape(x_label)}</text>',
        f'<text x="14" y="{TOP + plot_h / 2}" text-anchor="middle" class="chart-axis" '
        f'transform="rotate(-90 14 {TOP + plot_h / 2})">{escape(y_label)}</text>',
        *body, "</svg>"]
    return Markup("".join(parts))


def _y_ticks(top: float, plot_h: float, ymax: float, fmt) -> list[str]:
    out = []
    for i in range(5):
        value = ymax * i / 4
        y = TOP + plot_h - plot_h * i / 4
        out.append(f'<line x1="{LEFT - 4}" y1="{y:.1f}" x2="{LEFT + WIDTH - LEFT - RIGHT}" y2="{y:.1f}" '
                   f'stroke="#e5e7eb"/>')
        out.append(f'<text x="{LEFT - 7}" y="{y + 4:.1f}" text-anchor="end" class="chart-tick">'
                   f'{escape(fmt(value))}</text>')
    return out


def histogram(fractions: Sequence[float], *, title: str, bins: int = 10) -> Markup:
    """Students per score band: ``fractions`` are scores / max score in [0, 1]."""
    counts = [0] * bins
    for f in fractions:
        counts[min(bins - 1, max(0, int(f * bins)))] += 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    ymax = max(4, max(counts))
    ymax = ymax + (-ymax % 4)
    body = _y_ticks(TOP, plot_h, ymax, lambda v: f"{v:g}")
    bar_w = plot_w / bins
    labels = []
    for i, count in enumerate(counts):
        h = plot_h * count / ymax
        x = LEFT + i * bar_w
        lo, hi = 100 * i // bins, 100 * (i + 1) // bins
        band = f"{lo}–{hi}%"
        labels.append(f"{band}: {count}")
        body.append(f'<rect x="{x + 2:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar_w - 4:.1f}" height="{h:.1f}" '
                    f'fill="{PALETTE[0]}"><title>{escape(band)}: {count} students</title></rect>')
        body.append(f'<text x="{x:.1f}" y="{TOP + plot_h + 14}" text-anchor="middle" class="chart-tick">{lo}</text>')
    body.append(f'<text x="{LEFT + plot_w:.1f}" y="{TOP + plot_h + 14}" text-anchor="middle" class="chart-tick">100</text>')
    description = (f"Histogram of {len(fractions)} students' best scores in {bins} bands of the maximum: "
                   + ", ".join(labels) + ".")
    return _frame(title, description, body, "best score, % of the maximum", "students")


@dataclass(frozen=True)
class Series:
    """One line: its name and the y values (fractions in [0, 1]) of its points, in order."""

    name: str
    values: Sequence[float]


def lines(series: Sequence[Series], *, title: str, x_label: str = "attempt") -> Markup:
    """Score over attempts, one line per series, y in [0, 100] %."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    longest = max((len(s.values) for s in series), default=1)
    step = plot_w / max(1, longest - 1)
    body = _y_ticks(TOP, plot_h, 100, lambda v: f"{v:g}%")
    for i in range(longest):
        if longest <= 12 or i % max(1, longest // 10) == 0:
            body.append(f'<text x="{LEFT + i * step:.1f}" y="{TOP + plot_h + 14}" text-anchor="middle" '
                        f'class="chart-tick">{i + 1}</text>')
    described = []
    for k, s in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        points = [(LEFT + i * step if longest > 1 else LEFT + plot_w / 2, TOP + plot_h - plot_h * v)
                  for i, v in enumerate(s.values)]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for i, (x, y) in enumerate(points):
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"><title>{escape(s.name)} '
                        f'attempt {i + 1}: {100 * s.values[i]:.0f}%</title></circle>')
        body.append(f'<rect x="{LEFT + 8 + 110 * k}" y="{TOP - 15}" width="10" height="10" fill="{colour}"/>'
                    f'<text x="{LEFT + 22 + 110 * k}" y="{TOP - 6}" class="chart-tick">{escape(s.name)}</text>')
        described.append(f"{s.name}: " + ", ".join(f"{100 * v:.0f}%" for v in s.values))
    description = "Score after each attempt, in % of the maximum. " + "; ".join(described) + "."
    return _frame(title, description, body, x_label, "score, % of the maximum")
