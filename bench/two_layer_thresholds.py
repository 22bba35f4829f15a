"""Re-measure the accuracy thresholds of the two_layer grader's hidden accuracy cases.

Run:  .venv/bin/python bench/two_layer_thresholds.py [--runs 1000] [--train FILE ...]

For many run seeds it rebuilds exactly the data each hidden accuracy case generates,
trains the reference, and prints its held-out accuracy (worst, 1st and 5th percentile,
median) next to the best a linear model (logistic regression) reaches on the same
points, and the reference's training CPU time.  The thresholds in ``graders/two_layer.py``
sit between the two; rerun this after changing the datasets or the reference.

With ``--train FILE`` it trains each named submission instead of the reference (the held-out
correct variants: ``tests/graders/solutions/two_layer/correct_*.py``) and also counts the
seeds at which its first training misses the threshold, which a second try on new data
(``ACCURACY_TRIES``) must absorb.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from types import ModuleType

import numpy as np

from graders import two_layer as G
from graders.framework.case import case_seed
from reference import two_layer as R

CASES = (("train: accuracy on held-out two moons", G.two_moons, G.MOONS_THRESHOLD),
         ("train: accuracy on held-out concentric circles", G.circles, G.CIRCLES_THRESHOLD))


def load(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location("submission", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def logistic_regression(X: np.ndarray, y: np.ndarray, steps: int = 5000) -> np.ndarray:
    """Weights ``(3,)`` of a linear classifier on ``X (N, 2)`` with a bias, by gradient descent."""
    A = np.column_stack([X, np.ones(len(X))])
    w = np.zeros(3)
    for _ in range(steps):
        p = 0.5 * (1 + np.tanh(0.5 * (A @ w)))
        w -= 2.0 * A.T @ (p - y) / len(y)
    return w


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--train", nargs="*", default=[], metavar="FILE", help="submissions to train instead")
    args = ap.parse_args()
    for label, module in [("reference", R)] if not args.train else [(f, load(f)) for f in args.train]:
        for case, make, threshold in CASES:
            acc, linear, cpu = [], [], []
            for run_seed in range(args.runs):
                rng = np.random.default_rng(case_seed(case, run_seed))
                X, y = make(rng, G.N_TRAIN)
                X_test, y_test = make(rng, G.N_TEST)
                seed = int(rng.integers(0, 2**31 - 1))
                start = time.process_time()
                params, _ = module.train(X, y, seed=seed)
                cpu.append(time.process_time() - start)
                params = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
                acc.append(np.mean((R.forward(params, X_test) >= 0.5) == y_test))
                if not args.train:
                    w = logistic_regression(X, y)
                    linear.append(np.mean(((np.column_stack([X_test, np.ones(len(X_test))]) @ w) >= 0) == y_test))
            acc_a = np.array(acc)
            line = (f"{label} / {case}: worst {acc_a.min():.3f}, p1 {np.percentile(acc_a, 1):.3f}, "
                    f"p5 {np.percentile(acc_a, 5):.3f}, median {np.median(acc_a):.3f}, first training below "
                    f"{threshold} at {int((acc_a < threshold).sum())} of {args.runs} seeds; ")
            if linear:
                line += f"linear model best {max(linear):.3f}, median {np.median(linear):.3f}; "
            print(line + f"train CPU mean {np.mean(cpu) * 1000:.0f} ms, max {np.max(cpu) * 1000:.0f} ms", flush=True)


if __name__ == "__main__":
    main()
