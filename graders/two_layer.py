"""Grader of ``two_layer``: a two-layer binary classifier trained with mini-batch SGD.

Contract: ``p = sigmoid(W2 @ relu(W1 @ x + b1) + b2)`` per sample, samples as rows of
``X (N, n_in)``, ``W1 (h, n_in)``, ``b1 (h,)``, ``W2 (1, h)``, ``b2 (1,)``; the loss is the
binary cross-entropy averaged over the batch.  Functions: ``init_params(n_in, n_hidden, rng)``,
``forward(params, X)``, ``loss_and_grads(params, X, y)``, ``train(X, y, *, seed=0)``.

The grader makes its own data (:func:`two_moons`, :func:`circles`): 200 training points
that ``train`` sees, and 500 held-out points from the same distribution that it never
sees.  The returned parameters are evaluated on the held-out points with the
*reference's* forward pass, so a student's own ``forward`` cannot flatter them.

Accuracy thresholds, measured on this machine with the reference ``train`` (h = 32,
150 epochs, batch 32, SGD with momentum 0.9, lr 0.2) on the datasets exactly as the
hidden cases generate them, over 1000 hidden-case seeds each:

==============================  ============  ============  ============  ========
held-out accuracy               reference     reference     logistic      threshold
                                minimum       1st pct.      regression
                                                            maximum
==============================  ============  ============  ============  ========
two moons, noise 0.1            0.976         0.986         0.922         0.95
circles, factor 0.5, noise 0.1  0.960         0.972         0.582         0.93
==============================  ============  ============  ============  ========

(Reference medians: 0.998 and 0.990; on circles the true boundary r = 0.75 itself scores
a median of 0.994 and at worst 0.982.)  The thresholds sit about 0.03 below the
reference's worst seed, and on two moons about 0.03 above the best that a linear model
(logistic regression trained to convergence on the same 200 points) ever reached, so a
network without a working hidden layer cannot pass.  The held-out correct variants of the
test suite, trained with recipes of their own over 300 seeds, stay above the thresholds too,
except the Adam variant on two moons at 2 seeds (0.882 and 0.910): an accuracy case that
misses trains once more on new data before it fails (``ACCURACY_TRIES``; the bench's
``--train`` counts such misses).  The reference ``train`` takes
35 ms of CPU time on average, 42 ms at most; a whole grading run with hidden cases
about 0.5 s.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from graders.framework import CaseContext, Fail, Grader, Mapping_, Mistake, Rng, Scalar, StudentFault
from graders.framework import checks as C
from graders.framework.case import named_mistakes, unpack
from graders.framework.oracle import load_reference

grader = Grader("two_layer", functions=["init_params", "forward", "loss_and_grads", "train"])

KEYS = ("W1", "b1", "W2", "b2")
FORWARD = "statement, 'The network'"
GRADIENTS = "statement, 'Gradients'"
RELU_HINT = f"the hidden layer is a ReLU, max(0, z); the sigmoid belongs to the output only ({FORWARD})."
SHAPES = {"p": "(N,)", "grads['W1']": "(h, n_in)", "grads['b1']": "(h,)", "grads['W2']": "(1, h)",
          "grads['b2']": "(1,)"}
PARAM_SHAPES = {"W1": "(h, n_in)", "b1": "(h,)", "W2": "(1, h)", "b2": "(1,)"}
GRADS = Mapping_("grads", KEYS)
LOSS_AND_GRADS = (Scalar("loss"), GRADS)

N_TRAIN, N_TEST = 200, 500
MOONS_NOISE, CIRCLES_NOISE, CIRCLES_FACTOR = 0.1, 0.1, 0.5
MOONS_THRESHOLD, CIRCLES_THRESHOLD = 0.95, 0.93
ACCURACY_TRIES = 2          # trainings on fresh data before an accuracy case fails
INIT_STD_TOLERANCE = 0.05   # relative; the estimate's standard error is at most 0.5 %
INIT_KURTOSIS_TOLERANCE = 0.5  # normal: 3, uniform: 1.8; the estimate's standard error is about 0.03
LOSS_FALL = 0.9             # the last epoch's loss must be at most this share of the first's
BAD_WARNINGS = ("overflow encountered", "divide by zero encountered", "invalid value encountered")


# --------------------------------------------------------------------------- data


def _labels(rng: np.random.Generator, n: int) -> np.ndarray:
    y = np.zeros(n)
    y[n // 2:] = 1.0
    rng.shuffle(y)
    return y


def two_moons(rng: np.random.Generator, n: int, noise: float = MOONS_NOISE) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles (scikit-learn's ``make_moons``), random angles.

    Returns ``X (n, 2)`` and ``y (n,)``: class 0 on ``(cos t, sin t)``, class 1 on
    ``(1 - cos t, 0.5 - sin t)``, ``t ~ U(0, pi)``, plus Gaussian noise.
    """
    y = _labels(rng, n)
    t = rng.uniform(0.0, math.pi, n)
    x0 = np.where(y == 0, np.cos(t), 1.0 - np.cos(t))
    x1 = np.where(y == 0, np.sin(t), 0.5 - np.sin(t))
    return np.column_stack([x0, x1]) + noise * rng.standard_normal((n, 2)), y


def circles(rng: np.random.Generator, n: int, noise: float = CIRCLES_NOISE,
            factor: float = CIRCLES_FACTOR) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles (scikit-learn's ``make_circles``): class 0 on radius 1,
    class 1 on radius ``factor``, random angles, plus Gaussian noise."""
    y = _labels(rng, n)
    t = rng.uniform(0.0, 2 * math.pi, n)
    r = np.where(y == 0, 1.0, factor)
    return np.column_stack([r * np.cos(t), r * np.sin(t)]) + noise * rng.standard_normal((n, 2)), y


def random_params(rng: np.random.Generator, n_in: int, h: int) -> dict[str, np.ndarray]:
    """Parameters with non-zero biases, scaled so that the logits stay moderate (|z2| of a
    few units): the loss is then the same whether or not a solution clips p."""
    return {
        "W1": rng.standard_normal((h, n_in)) * (1.5 / math.sqrt(n_in)),
        "b1": rng.standard_normal(h) * 0.5,
        "W2": rng.standard_normal((1, h)) * (1.5 / math.sqrt(h)),
        "b2": rng.standard_normal(1) * 0.5,
    }


def random_batch(rng: np.random.Generator, N: int, n_in: int) -> tuple[np.ndarray, np.ndarray]:
    """``X (N, n_in)`` standard normal and labels ``y (N,)`` in {0, 1} with both classes present."""
    X = rng.standard_normal((N, n_in))
    y = (rng.random(N) < 0.5).astype(np.float64)
    if N > 1:
        y[:2] = (0.0, 1.0)
    return X, y


# --------------------------------------------------------------------------- what mistakes compute
# Each is a transformation of the inputs and of values the oracle supplied (p, loss, grads).


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _bce(z: np.ndarray, y: np.ndarray) -> float:
    """Mean binary cross-entropy of logits ``z``."""
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def _logits_with(activation: Callable[[np.ndarray], np.ndarray], params: dict, X: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):  # a student's diverged parameters may overflow here
        return activation(X @ params["W1"].T + params["b1"]) @ params["W2"][0] + params["b2"][0]


HIDDEN_VARIANTS: tuple[tuple[str, str, Callable[[np.ndarray], np.ndarray]], ...] = (
    ("no-hidden-nonlinearity", "Your network has no non-linearity in the hidden layer "
     "(p = sigmoid(W2 @ (W1 @ x + b1) + b2)): two affine maps compose to one, so its decision boundary is a "
     "straight line.", lambda z: z),
    ("wrong-hidden-activation", "Your hidden layer uses tanh; this network's hidden layer is a ReLU.", np.tanh),
    ("wrong-hidden-activation", "Your hidden layer uses a sigmoid; this network's hidden layer is a ReLU "
     "(the sigmoid belongs to the output only).", _sigmoid),
)


RETURNS_LOGITS = Mistake(
    "forward-returns-logits", "Your forward returns the logit z = W2 @ relu(W1 @ x + b1) + b2 itself, not the "
    "probability p = sigmoid(z): its values are not in (0, 1).",
    f"forward ends with the output sigmoid, so that p is a probability ({FORWARD}).",
    lambda i, e: {"p": _logits_with(lambda z: np.maximum(z, 0.0), i["params"], i["X"])},
)


def forward_mistakes() -> tuple[Mistake, ...]:
    """The forward pass with another hidden activation, or without its output sigmoid."""
    return tuple(
        Mistake(code, says, RELU_HINT,
                lambda i, e, act=act: {"p": _sigmoid(_logits_with(act, i["params"], i["X"]))})
        for code, says, act in HIDDEN_VARIANTS) + (RETURNS_LOGITS,)


def loss_mistakes(p: np.ndarray) -> tuple[Mistake, ...]:
    """Wrong loss values; ``p`` is the correct forward pass of the case's inputs."""
    hint = "the loss is the binary cross-entropy of each sample, averaged over the N samples (statement, 'The loss')."

    def wrong(says: str, value: Callable[[dict, dict], float]) -> Mistake:
        return Mistake("loss-value-wrong", says, hint, lambda i, e: {"loss": value(i, e)})

    with np.errstate(all="ignore"):
        logp, log1mp = np.log(p), np.log1p(-p)
    found = [
        wrong("Your loss is the sum over the batch, not the mean.", lambda i, e: e["loss"] * i["X"].shape[0]),
        wrong("Your loss has the wrong sign (you dropped the minus).", lambda i, e: -e["loss"]),
        wrong("Your loss uses log10; cross-entropy uses the natural log (np.log).",
              lambda i, e: e["loss"] / math.log(10.0)),
        wrong("Your loss uses log(p) in both terms (a typo for log(1 - p)).",
              lambda i, e: -float(np.mean(logp))),
        wrong("Your loss swaps the two terms: y * log(1 - p) + (1 - y) * log(p).",
              lambda i, e: -float(np.mean(i["y"] * log1mp + (1 - i["y"]) * logp))),
        wrong("Your loss is the mean squared error, not the binary cross-entropy.",
              lambda i, e: float(np.mean((p - i["y"]) ** 2))),
        wrong("Your loss is half the mean squared error, not the binary cross-entropy.",
              lambda i, e: 0.5 * float(np.mean((p - i["y"]) ** 2))),
    ]
    found += [Mistake(code, says, RELU_HINT,
                      lambda i, e, act=act: {"loss": _bce(_logits_with(act, i["params"], i["X"]), i["y"])})
              for code, says, act in HIDDEN_VARIANTS]
    return tuple(found)


def grad_mistakes(p: np.ndarray) -> tuple[Mistake, ...]:
    """Wrong gradients; ``p`` is the correct forward pass of the case's inputs."""
    grad_names = [f"grads[{k!r}]" for k in KEYS]

    def scaled(code: str, says: str, factor: Callable[[int], float]) -> Mistake:
        return Mistake(code, says,
                       f"the loss is a mean over the batch, so every gradient carries its 1/N exactly once: it "
                       f"enters at the output and the layers below only pass it on ({GRADIENTS}).",
                       lambda i, e: {n: e[n] * factor(i["X"].shape[0]) for n in grad_names})

    def relu_point(says: str, upstream_times: Callable[[dict, np.ndarray, np.ndarray], np.ndarray]) -> Mistake:
        def predict(i: dict, e: dict) -> dict:
            P, X = i["params"], i["X"]
            dH = np.outer((p - i["y"]) / X.shape[0], P["W2"][0])   # dL/dH, the same for every variant
            dZ1 = upstream_times(i, dH, X @ P["W1"].T + P["b1"])
            return {"grads['W1']": dZ1.T @ X, "grads['b1']": dZ1.sum(axis=0)}

        return Mistake("relu-grad-wrong-point", says,
                       f"the ReLU's derivative is taken at the hidden pre-activation Z1, the value the ReLU was "
                       f"applied to ({GRADIENTS}).", predict)

    return (
        scaled("grad-not-averaged", "Your gradients are summed over the batch, not averaged (they are N times too "
               "large).", lambda N: float(N)),
        scaled("grad-averaged-twice", "Your gradients are divided by N twice (once in dL/dz2 and again in a layer), "
               "so they are N times too small.", lambda N: 1.0 / N),
        relu_point("Your ReLU mask uses X @ W1.T without the bias b1.",
                   lambda i, dH, Z1: dH * (Z1 - i["params"]["b1"] > 0)),
        relu_point("Your ReLU mask is taken at the upstream gradient (dH > 0) instead of at Z1.",
                   lambda i, dH, Z1: dH * (dH > 0)),
        relu_point("Your ReLU mask is always 1: a test like relu(Z1) >= 0 (or H >= 0) is true everywhere.",
                   lambda i, dH, Z1: dH),
        relu_point("You multiplied by relu(Z1) instead of by its derivative (Z1 > 0).",
                   lambda i, dH, Z1: dH * np.maximum(Z1, 0.0)),
        relu_point("Your ReLU mask is taken at the output logit z2 (p > 0.5) instead of at the hidden Z1.",
                   lambda i, dH, Z1: dH * (p > 0.5)[:, None]),
    )


# --------------------------------------------------------------------------- helpers


def bad_warnings(warnings: tuple[str, ...]) -> list[str]:
    """The student's floating-point warnings that mean overflow, log(0) or nan (not underflow).

    The warnings are recorded inside the sandbox, so they are the submission's word about
    itself: they can name a mistake and cost its points (a student can only lose by them),
    never prove stability.  What proves anything is the values: finite, in range, right.  A
    naive ``1 / (1 + exp(-z))`` under ``np.errstate(over="ignore")`` returns exactly what the
    correct tanh-form sigmoid ``0.5 * (1 + tanh(z / 2))`` returns for ``|z| > 40`` (0 and 1),
    so no logit tells them apart by value, and the stress cases do not try.
    """
    return [w for w in warnings if any(b in w for b in BAD_WARNINGS)]


def as_params(value: Any, n_in: int, h: int | None, label: str) -> dict[str, np.ndarray]:
    """Validate a parameter dict: the four arrays with the contract's shapes (``h`` free if None)."""
    d = C.as_dict(value, KEYS, label)
    params = {k: C.as_array(d[k], f"{label}[{k!r}]") for k in KEYS}
    W1 = params["W1"]
    if W1.ndim != 2 or W1.shape[1] != n_in or W1.shape[0] < 1 or (h is not None and W1.shape[0] != h):
        want = f"(h, {n_in})" if h is None else C.fmt_shape((h, n_in))
        raise Fail(f"{label}['W1'] has shape {C.fmt_shape(W1.shape)}; expected {want} = (h, n_in): one row "
                   f"per hidden unit, one column per input feature.", ["wrong-shape"])
    h = W1.shape[0]
    for k, shape in (("b1", (h,)), ("W2", (1, h)), ("b2", (1,))):
        C.expect_shape(params[k], shape, f"{label}[{k!r}]", PARAM_SHAPES[k])
    for k in KEYS:
        if params[k].dtype.kind not in "biuf":
            raise Fail(f"{label}[{k!r}] should hold numbers; got dtype {params[k].dtype}.", ["bad-return-type"])
    return {k: v.astype(np.float64) for k, v in params.items()}


def check_forward(ctx: CaseContext, params: dict, X: np.ndarray) -> dict:
    return ctx.check_call("forward", {"params": params, "X": X}, returns="p", mistakes=forward_mistakes(),
                          shapes=SHAPES)


def check_loss_and_grads(ctx: CaseContext, params: dict, X: np.ndarray, y: np.ndarray) -> dict:
    p = C.as_array(ctx.expected("forward", params, X), "p")
    return ctx.check_call("loss_and_grads", {"params": params, "X": X, "y": y}, returns=LOSS_AND_GRADS,
                          mistakes=loss_mistakes(p) + grad_mistakes(p), shapes=SHAPES)


def call_train(ctx: CaseContext, X: np.ndarray, y: np.ndarray, seed: int):
    """``train(X, y, seed=seed)`` → (validated params, losses, CallResult)."""
    result = ctx.call("train", X, y, seed=seed)
    params_v, losses_v = C.as_tuple(result.value, ("params", "losses"), "train")
    params = as_params(params_v, X.shape[1], None, "params")
    losses = C.as_array(losses_v, "losses")
    if losses.ndim != 1 or losses.size < 2:
        raise Fail(f"losses has shape {C.fmt_shape(losses.shape)}; expected (n_epochs,) with at least two epochs: "
                   f"one mean training loss per epoch.", ["wrong-shape"])
    return params, losses.astype(np.float64), result


# --------------------------------------------------------------------------- init_params


def _weight_problem(W: np.ndarray, name: str, fan_in: int, fan_out: int) -> str | None:
    """What is wrong with the distribution of ``W`` (std, shape of the distribution), or None."""
    want = math.sqrt(2.0 / (fan_in + fan_out))
    w = W.ravel()
    std = float(w.std())
    known = {"0.01 (the '0.01 * randn' initialization)": 0.01, "1 (plain randn, no scaling)": 1.0,
             f"sqrt(2 / fan_in) = {math.sqrt(2.0 / fan_in):.4g} (He initialization)": math.sqrt(2.0 / fan_in),
             f"sqrt(1 / fan_in) = {math.sqrt(1.0 / fan_in):.4g} (LeCun initialization)": math.sqrt(1.0 / fan_in)}
    if abs(std / want - 1.0) > INIT_STD_TOLERANCE:
        like = [label for label, s in known.items() if abs(std / s - 1.0) <= INIT_STD_TOLERANCE]
        what = f"; that is a std of {like[0]}" if like else ""
        return (f"{name} (shape {C.fmt_shape(W.shape)}) has standard deviation {std:.4g}{what}. Xavier-normal "
                f"for fan_in = {fan_in}, fan_out = {fan_out} means std = sqrt(2 / (fan_in + fan_out)) = {want:.4g}.")
    if abs(float(w.mean())) > 0.05 * want:
        return f"{name} has mean {float(w.mean()):.4g}; Xavier-normal weights are centred on 0."
    kurtosis = float(np.mean((w - w.mean()) ** 4) / std ** 4)
    if abs(kurtosis - 3.0) > INIT_KURTOSIS_TOLERANCE:
        shape = "uniform" if abs(kurtosis - 1.8) <= INIT_KURTOSIS_TOLERANCE else "not normal"
        return (f"{name} has the right standard deviation but its values are {shape} (kurtosis {kurtosis:.2f}; "
                f"a normal distribution has 3, a uniform one 1.8). Draw them with rng.standard_normal "
                f"(or rng.normal), not rng.uniform.")
    return None


INIT = "statement, 'Initialization'"
XAVIER_HINT = (f"Xavier-normal weights are drawn from a normal distribution with mean 0 and a standard deviation set by "
               f"the layer's fan_in and fan_out; the biases start at zero ({INIT}).")
RNG_HINT = (f"draw every random number from the generator passed as rng, never from np.random and never from a "
            f"generator init_params seeds itself ({INIT}).")


def init_arrays(value: Any, n_in: int, h: int, problems: C.Problems) -> tuple[dict, dict]:
    """The arrays ``init_params`` returned: ``(raw, shaped)``.

    ``raw`` holds every numeric array as returned (for the zero and reproducibility checks,
    whatever its shape); ``shaped`` those with the contract's shape, or one that differs
    only by axes of length 1, converted to float64 (for the distribution checks).  Shape
    problems go to ``problems``, so that they do not hide the distribution or the generator.
    """
    d = C.as_dict(value, KEYS, "params")
    want = {"W1": (h, n_in), "b1": (h,), "W2": (1, h), "b2": (1,)}
    raw, shaped = {}, {}
    for k in KEYS:
        a = C.as_array(d[k], f"params[{k!r}]")
        if a.dtype.kind not in "biuf":
            raise Fail(f"params[{k!r}] should hold numbers; got dtype {a.dtype}.", ["bad-return-type"])
        raw[k] = a
        value = C.conform(a, want[k], None, f"params[{k!r}]", PARAM_SHAPES[k], problems)
        if value is not None:
            shaped[k] = value.astype(np.float64)
    return raw, shaped


@grader.case("init_params: shapes, zero biases, Xavier-normal weights", points=2,
             feeds="init_params(200, 300, rng) and init_params(3, 20000, rng): large layers, so the spread of "
                   "the weights can be measured",
             expects="W1 (h, n_in), b1 (h,), W2 (1, h), b2 (1,); biases all zero; weights normal, mean 0, "
                     "std sqrt(2 / (fan_in + fan_out)) within 5 %")
def init_xavier(ctx: CaseContext) -> None:
    problems = C.Problems()
    found: list[str] = []
    for n_in, h in ((200, 300), (3, 20000)):
        result = ctx.call("init_params", n_in, h, Rng(ctx.seed()))
        raw, shaped = init_arrays(result.value, n_in, h, problems)
        for b in ("b1", "b2"):
            if np.any(raw[b] != 0):
                found.append(f"params[{b!r}] is not all zeros (with n_in = {n_in}, h = {h}); biases start at 0.")
        for name, fan_in, fan_out in (("W1", n_in, h), ("W2", h, 1)):
            if name in shaped and shaped[name].size >= 10000:
                problem = _weight_problem(shaped[name], f"params[{name!r}]", fan_in, fan_out)
                if problem:
                    found.append(problem)
    if found:
        problems.add(Fail("\n".join(dict.fromkeys(found)), ["init-not-xavier"], hints=[XAVIER_HINT]))
    problems.raise_if_any()


@grader.case("init_params: draws only from rng", points=1,
             feeds="init_params(3, 4, rng) three times: twice with generators made from the same seed, "
                   "once from another seed",
             expects="equal seeds give equal parameters, different seeds different weights")
def init_uses_rng(ctx: CaseContext) -> None:
    seed = ctx.seed()
    problems = C.Problems()
    first, again, other = (init_arrays(ctx.call("init_params", 3, 4, Rng(s)).value, 3, 4, problems)[0]
                           for s in (seed, seed, seed + 1))
    if not all(np.array_equal(first[k], again[k]) for k in KEYS):
        problems.add(Fail("Two calls with generators made from the same seed returned different weights, so your "
                          "init_params draws from somewhere other than rng (the global np.random?).",
                          ["global-random"], hints=[RNG_HINT]))
    elif all(np.array_equal(first[k], other[k]) for k in ("W1", "W2")):
        problems.add(Fail("Generators made from different seeds gave identical weights, so your init_params ignores "
                          "rng (a fixed seed such as np.random.seed(0), or a generator it seeds itself such as "
                          "default_rng(0)?).", ["global-random"], hints=[RNG_HINT]))
    problems.raise_if_any()


# --------------------------------------------------------------------------- forward and loss_and_grads


@grader.case("forward: small batch", points=2,
             feeds="random params (n_in = 3, h = 5, non-zero biases), X (6, 3)",
             expects="p (6,) = sigmoid(relu(X @ W1.T + b1) @ W2.T + b2)",
             tell=f"Work through the worked example by hand ({FORWARD}).")
def forward_small(ctx: CaseContext) -> None:
    params = random_params(ctx.rng, 3, 5)
    X, _ = random_batch(ctx.rng, 6, 3)
    check_forward(ctx, params, X)


@grader.case("loss_and_grads: small batch", points=3,
             feeds="random params (n_in = 3, h = 5, non-zero biases), X (8, 3), y (8,) in {0, 1}",
             expects="the mean binary cross-entropy and the four exact gradients",
             tell="Compare your gradients with a numerical gradient (statement, 'Check your gradients').")
def loss_small(ctx: CaseContext) -> None:
    params = random_params(ctx.rng, 3, 5)
    X, y = random_batch(ctx.rng, 8, 3)
    check_loss_and_grads(ctx, params, X, y)


@grader.case("edge shapes: one sample, one hidden unit", points=1,
             feeds="N = 1 (h = 4, n_in = 2); h = 1 (N = 5, n_in = 2): forward and loss_and_grads",
             expects="p of shape (N,) even for N = 1; W2 (1, 1), b1 (1,) kept as arrays")
def edge_shapes(ctx: CaseContext) -> None:
    problems = C.Problems()
    for N, h in ((1, 4), (5, 1)):
        params = random_params(ctx.rng, 2, h)
        X, y = random_batch(ctx.rng, N, 2)
        with problems.check():
            check_forward(ctx, params, X)
        with problems.check():
            check_loss_and_grads(ctx, params, X, y)
    problems.raise_if_any()


def _saturating_inputs(ctx: CaseContext) -> tuple[dict, np.ndarray]:
    """Random params and ``X (10, 3)`` with entries in the thousands: logits in the thousands."""
    params = random_params(ctx.rng, 3, 4)
    X, _ = random_batch(ctx.rng, 10, 3)
    return params, X * 2000.0


def _stress_fail(function: str, warnings: list[str], nonfinite: list[str]) -> Fail:
    what = []
    if warnings:
        what.append(f"NumPy warned: {'; '.join(dict.fromkeys(warnings))}")
    if nonfinite:
        what.append(f"{', '.join(nonfinite)} contain nan or inf")
    codes = ["sigmoid-overflow"] + (["not-finite"] if nonfinite else [])
    return Fail(f"With logits in the thousands, `{function}` is not numerically stable: {'; '.join(what)}.", codes,
                hints=["np.exp overflows beyond 709, and np.where evaluates both of its branches: the exponent "
                       "itself must never be large, and the loss must never take log(0) (statement, 'Numerical "
                       "stability')."])


@grader.case("forward: huge logits stay finite, without overflow", points=1,
             feeds="random params, X (10, 3) with entries in the thousands, so |z2| is in the thousands",
             expects="p finite, in [0, 1] and as the formula: that much the returned values prove. NumPy's overflow "
                     "warnings, recorded inside the sandbox, also cost this point; code that silences them "
                     "(np.errstate) cannot be caught here, because at these logits 1 / (1 + exp(-z)) returns the "
                     "same 0 and 1 as a stable sigmoid in tanh form",
             tell="Use a sigmoid that never computes exp of a large positive number.")
def forward_saturated(ctx: CaseContext) -> None:
    params, X = _saturating_inputs(ctx)
    result = ctx.call("forward", params, X)
    p = C.as_array(result.value, "p")
    C.expect_shape(p, (X.shape[0],), "p", SHAPES["p"])
    nonfinite = [] if p.dtype.kind != "f" or np.all(np.isfinite(p)) else ["p"]
    warned = bad_warnings(result.warnings)
    if warned or nonfinite:
        raise _stress_fail("forward", warned, nonfinite)
    check_forward(ctx, params, X)


@grader.case("loss_and_grads: confident mistakes stay finite", points=1,
             feeds="random params, X (10, 3) with entries in the thousands; half the labels contradict the "
                   "network's confident prediction",
             expects="a finite loss and gradients without overflow or log(0) warnings (warnings you silence cannot be "
                     "seen); gradients as the formulas "
                     "(the loss value is not compared here: clipping p is allowed)",
             tell="With a saturated p, use dL/dz2 = (p - y) / N directly: going through dL/dp = (p - y) / (p (1 - p)) "
                  "divides 0 by 0, or with a clipped p makes the gradient vanish (statement, 'Numerical stability').")
def loss_saturated(ctx: CaseContext) -> None:
    params, X = _saturating_inputs(ctx)
    p = C.as_array(ctx.expected("forward", params, X), "p")
    y = (p >= 0.5).astype(np.float64)
    y[::2] = 1.0 - y[::2]  # half of the confident predictions are wrong
    result = ctx.call("loss_and_grads", params, X, y)
    loss_v, grads_v = C.as_tuple(result.value, ("loss", "grads"), "loss_and_grads")
    loss = C.as_number(loss_v, "loss")
    actual = unpack(GRADS, grads_v, "loss_and_grads")
    nonfinite = ([] if math.isfinite(loss) else ["the loss"]) + [
        name for name, g in actual.items() if g.dtype.kind == "f" and not np.all(np.isfinite(g))]
    warned = bad_warnings(result.warnings)
    if warned or nonfinite:
        raise _stress_fail("loss_and_grads", warned, nonfinite)
    expected = unpack(GRADS, ctx.expected("loss_and_grads", params, X, y)[1], "loss_and_grads")
    problems = []
    for name, exp in expected.items():
        try:
            C.expect_shape(actual[name], exp.shape, name, SHAPES[name])
            C.expect_close(actual[name], exp, name, hidden=ctx.hidden)
        except Fail as f:
            problems.append(f.message)
    if problems:
        inputs = {"params": params, "X": X, "y": y}
        named = named_mistakes(grad_mistakes(p), inputs, expected, actual)
        raise Fail.joined([Fail("\n".join(problems)), *named], fraction=0.5, hints=[] if named else [ctx.case.tell])


@grader.case("forward: random shapes", points=1, visibility="hidden",
             feeds="random params and X, N in 2..30, n_in in 1..6, h in 1..12", expects=FORWARD)
def forward_random(ctx: CaseContext) -> None:
    N, n_in, h = int(ctx.rng.integers(2, 31)), int(ctx.rng.integers(1, 7)), int(ctx.rng.integers(1, 13))
    params = random_params(ctx.rng, n_in, h)
    X, _ = random_batch(ctx.rng, N, n_in)
    check_forward(ctx, params, X)


@grader.case("loss_and_grads: random shapes", points=2, visibility="hidden",
             feeds="random params, X and y, N in 2..40, n_in in 1..6, h in 1..12",
             expects="the mean binary cross-entropy and the four exact gradients",
             tell="Compare your gradients with a numerical gradient (statement, 'Check your gradients').")
def loss_random(ctx: CaseContext) -> None:
    N, n_in, h = int(ctx.rng.integers(2, 41)), int(ctx.rng.integers(1, 7)), int(ctx.rng.integers(1, 13))
    params = random_params(ctx.rng, n_in, h)
    X, y = random_batch(ctx.rng, N, n_in)
    check_loss_and_grads(ctx, params, X, y)


# --------------------------------------------------------------------------- train


@grader.case("train: same seed, same result", points=2,
             feeds=f"{N_TRAIN} two-moons points, train(X, y, seed=s) twice with the same s",
             expects="identical params and losses from both calls",
             tell="Make every random choice (initialization, shuffling) from np.random.default_rng(seed).")
def train_deterministic(ctx: CaseContext) -> None:
    X, y = two_moons(ctx.rng, N_TRAIN)
    seed = ctx.seed()
    params_a, losses_a, _ = call_train(ctx, X, y, seed)
    params_b, losses_b, _ = call_train(ctx, X, y, seed)
    differ = [f"params[{k!r}]" for k in KEYS if not np.array_equal(params_a[k], params_b[k], equal_nan=True)]
    if not np.array_equal(losses_a, losses_b, equal_nan=True):
        differ.append("losses")
    if differ:
        raise Fail(f"Two calls of train with the same data and seed={seed} returned different {', '.join(differ)}. "
                   "Something in it draws from a source other than the seed.", ["nondeterministic"],
                   hints=["make every random choice of train (the initialization, every shuffle) from one "
                          "generator built from seed, never from the global np.random (statement, 'Training')."])


@grader.case("train: the loss falls", points=2,
             feeds=f"{N_TRAIN} concentric-circles points, train(X, y, seed=s)",
             expects=f"one finite loss per epoch; the last at most {LOSS_FALL:.0%} of the first",
             tell="Check the sign of the update (params - lr * grads) and try a smaller learning rate.")
def train_loss_falls(ctx: CaseContext) -> None:
    X, y = circles(ctx.rng, N_TRAIN)
    _, losses, result = call_train(ctx, X, y, ctx.seed())
    hint = ("a descent step moves each parameter against its gradient; if the loss explodes, the learning rate "
            "is too large (statement, 'Training').")
    if not np.all(np.isfinite(losses)):
        first_bad = int(np.argmax(~np.isfinite(losses)))
        codes = ["loss-not-decreasing"] + (["sigmoid-overflow"] if bad_warnings(result.warnings) else [])
        raise Fail(f"Your training diverged: the loss of epoch {first_bad + 1} is {losses[first_bad]}.", codes,
                   hints=[hint])
    if not losses[-1] <= LOSS_FALL * losses[0]:
        verb = "rose" if losses[-1] > losses[0] else "hardly fell"
        raise Fail(f"Your training loss {verb}: {losses[0]:.4g} in the first epoch, {losses[-1]:.4g} in the last "
                   f"({len(losses)} epochs); it must end at most {LOSS_FALL:.0%} of where it started.",
                   ["loss-not-decreasing"], hints=[hint])


def _reference_forward() -> Callable[[dict, np.ndarray], np.ndarray]:
    module = load_reference("two_layer")
    if module is None:  # hidden cases only run where the references are installed
        raise RuntimeError("the accuracy cases of two_layer need the reference solutions")
    return module.forward


def _logit_is_affine(X: np.ndarray, p: np.ndarray) -> bool:
    """True if ``log(p / (1 - p))`` is an affine function of ``X``: a linear decision boundary."""
    ok = np.isfinite(p) & (p > 1e-9) & (p < 1 - 1e-9)
    if ok.sum() < X.shape[1] + 5:
        return False
    z = np.log(p[ok]) - np.log1p(-p[ok])
    A = np.column_stack([X[ok], np.ones(int(ok.sum()))])
    coef, *_ = np.linalg.lstsq(A, z, rcond=None)
    return float(np.linalg.norm(A @ coef - z)) <= 1e-6 * max(1.0, float(np.linalg.norm(z)))


def _why_inaccurate(ctx: CaseContext, params: dict, X: np.ndarray, p_ref: np.ndarray) -> list[Fail]:
    """Look at the student's own forward pass on the held-out points for a named mistake."""
    try:
        result = ctx.call("forward", params, X)
        p = C.as_array(result.value, "p").astype(np.float64)
    except StudentFault as fault:
        if fault.fatal:
            raise
        return []
    except Fail:
        return []
    if p.shape != (X.shape[0],):
        return []
    named = named_mistakes(forward_mistakes(), {"params": params, "X": X}, {"p": p_ref}, {"p": p})
    if named:
        return named[:1]
    if _logit_is_affine(X, p) and not _logit_is_affine(X, p_ref):
        return [Fail("Your own forward pass draws a straight decision boundary (its logit is an affine function of "
                     "x) where the statement's network with the same parameters does not.",
                     ["no-hidden-nonlinearity"], hints=[RELU_HINT])]
    return []


def check_accuracy(ctx: CaseContext, make: Callable, dataset: str, threshold: float) -> None:
    """Train on fresh data and judge the returned parameters on held-out points; a network
    below ``threshold`` gets one more try on new data and a new seed before it fails.

    A correct network trained with a reasonable recipe of the student's own misses now and
    then (the Adam variant of the suite: 2 of 300 seeds on two moons, at 0.88); two misses in
    a row are far rarer, while a network without a working hidden layer misses every time.
    """
    best: tuple[float, dict, np.ndarray, np.ndarray] | None = None
    for _ in range(ACCURACY_TRIES):
        X, y = make(ctx.rng, N_TRAIN)
        X_test, y_test = make(ctx.rng, N_TEST)
        params, _, _ = call_train(ctx, X, y, ctx.seed())
        if not all(np.all(np.isfinite(v)) for v in params.values()):
            raise Fail("train returned parameters that contain nan or inf, so they classify nothing.",
                       ["not-finite", "accuracy-below-threshold"])
        with np.errstate(all="ignore"):
            p_ref = np.asarray(_reference_forward()(params, X_test), dtype=np.float64)
        accuracy = float(np.mean((p_ref >= 0.5) == (y_test == 1)))
        if accuracy >= threshold:
            return
        if best is None or accuracy > best[0]:
            best = (accuracy, params, X_test, p_ref)
    assert best is not None
    accuracy, params, X_test, p_ref = best
    found = Fail(f"Your trained network classifies {accuracy:.1%} of {N_TEST} held-out {dataset} points "
                 f"correctly (the better of {ACCURACY_TRIES} trainings on new data); at least {threshold:.0%} is "
                 f"required.", ["accuracy-below-threshold"],
                 hints=["the parameters are evaluated on raw X with the statement's forward pass: train longer, "
                        "use momentum or more hidden units, and if you standardize X inside train, fold the "
                        "scaling into W1 and b1 (statement, 'Training')."])
    raise Fail.joined([found, *_why_inaccurate(ctx, params, X_test, p_ref)])


@grader.case("train: accuracy on held-out two moons", points=3, visibility="hidden",
             feeds=f"{N_TRAIN} two-moons points (noise {MOONS_NOISE}) to train on; {N_TEST} others held out",
             expects=f"the returned params classify at least {MOONS_THRESHOLD:.0%} of the held-out points, "
                     f"evaluated with the reference forward pass, in one of {ACCURACY_TRIES} trainings on new data")
def accuracy_moons(ctx: CaseContext) -> None:
    check_accuracy(ctx, two_moons, "two-moons", MOONS_THRESHOLD)


@grader.case("train: accuracy on held-out concentric circles", points=3, visibility="hidden",
             feeds=f"{N_TRAIN} concentric-circles points (factor {CIRCLES_FACTOR}, noise {CIRCLES_NOISE}) to train "
                   f"on; {N_TEST} others held out",
             expects=f"the returned params classify at least {CIRCLES_THRESHOLD:.0%} of the held-out points, "
                     f"evaluated with the reference forward pass, in one of {ACCURACY_TRIES} trainings on new data")
def accuracy_circles(ctx: CaseContext) -> None:
    check_accuracy(ctx, circles, "concentric-circles", CIRCLES_THRESHOLD)
