"""Prometheus metrics of this process, in the text exposition format (no client library needed).

Counters and histograms live in memory (they start at zero with the process, as Prometheus
expects); gauges such as the queue depth are read from the database when scraped.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping

#: Upper bounds (seconds) of the grading-latency buckets.
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items()) + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class Histogram:
    def __init__(self, buckets: tuple[float, ...] = BUCKETS):
        self.buckets = buckets
        self.counts = [0] * len(buckets)
        self.total = 0
        self.sum = 0.0

    def observe(self, value: float) -> None:
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[i] += 1
        self.total += 1
        self.sum += value


class Metrics:
    """The process's counters and histograms; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.grading_seconds: dict[str, Histogram] = defaultdict(Histogram)
        self.queue_wait_seconds: dict[str, Histogram] = defaultdict(Histogram)
        self.graded: dict[tuple[str, str], int] = defaultdict(int)
        self.case_outcomes: dict[tuple[str, str], int] = defaultdict(int)
        self.diagnoses: dict[tuple[str, str], int] = defaultdict(int)
        self.refused: dict[str, int] = defaultdict(int)

    def observe_grading(self, exercise: str, *, seconds: float, queue_wait: float, status: str,
                        outcomes: Iterable[str], diagnoses: Iterable[str]) -> None:
        with self._lock:
            self.grading_seconds[exercise].observe(seconds)
            self.queue_wait_seconds[exercise].observe(queue_wait)
            self.graded[(exercise, status)] += 1
            for outcome in outcomes:
                self.case_outcomes[(exercise, outcome)] += 1
            for code in diagnoses:
                self.diagnoses[(exercise, code)] += 1

    def refuse(self, reason: str) -> None:
        with self._lock:
            self.refused[reason] += 1

    def render(self, gauges: Iterable[tuple[str, str, Mapping[str, str], float]] = ()) -> str:
        """The exposition text; ``gauges`` are ``(name, help, labels, value)`` read at scrape time."""
        out: list[str] = []

        def family(name: str, kind: str, help_: str) -> None:
            out.append(f"# HELP {name} {help_}")
            out.append(f"# TYPE {name} {kind}")

        seen: set[str] = set()
        for name, help_, labels, value in gauges:
            if name not in seen:
                family(name, "gauge", help_)
                seen.add(name)
            out.append(f"{name}{_labels(labels)} {_number(value)}")
        with self._lock:
            for name, help_, hists in (
                    ("nngrade_grading_seconds", "Time from claiming a submission to storing its report.",
                     self.grading_seconds),
                    ("nngrade_queue_wait_seconds", "Time a submission waited in the queue before grading.",
                     self.queue_wait_seconds)):
                family(name, "histogram", help_)
                for exercise, hist in sorted(hists.items()):
                    for bound, count in zip(hist.buckets, hist.counts):
                        out.append(f"{name}_bucket{_labels({'exercise': exercise, 'le': _number(bound)})} {count}")
                    out.append(f"{name}_bucket{_labels({'exercise': exercise, 'le': '+Inf'})} {hist.total}")
                    out.append(f"{name}_sum{_labels({'exercise': exercise})} {_number(hist.sum)}")
                    out.append(f"{name}_count{_labels({'exercise': exercise})} {hist.total}")
            for name, help_, counter, keys in (
                    ("nngrade_gradings_total", "Gradings finished, by exercise and submission status.",
                     self.graded, ("exercise", "status")),
                    ("nngrade_case_outcomes_total", "Test outcomes in finished gradings.",
                     self.case_outcomes, ("exercise", "outcome")),
                    ("nngrade_diagnoses_total", "Diagnosis codes in finished gradings.",
                     self.diagnoses, ("exercise", "code"))):
                family(name, "counter", help_)
                for key, count in sorted(counter.items()):
                    out.append(f"{name}{_labels(dict(zip(keys, key)))} {count}")
            family("nngrade_submissions_refused_total", "counter", "Submissions refused to protect the service.")
            for reason, count in sorted(self.refused.items()):
                out.append(f"nngrade_submissions_refused_total{_labels({'reason': reason})} {count}")
        return "\n".join(out) + "\n"
