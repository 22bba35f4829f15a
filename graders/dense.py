"""Grader of ``dense``: a batched dense layer, forward and backward.

Contract: ``dense_forward(X, W, b) -> Y = X @ W.T + b`` and
``dense_backward(X, W, dY) -> (dX, dW, db)`` with ``dX = dY @ W``, ``dW = dY.T @ X``,
``db = dY.sum(axis=0)``; samples are rows, ``W`` is ``(n_out, n_in)``.

The large-batch case.  Its inputs are drawn afresh for every try from the case's generator
(the run's seed on the server), so nothing can be computed at import or remembered from an
earlier try; every entry of every try's result is compared with the contract's formulas
computed here (:func:`correct_outputs`), and a try's time counts only with its own result.
The time judged is the CPU time the sandbox spent on the call (:func:`judged_seconds`), which
a loaded machine does not inflate; where that cannot be measured, the call's round trip.
Through the sandbox a round trip includes sending the arrays and the results over its
socket, in-process the copies for the mutation check.  So the layer is narrow,
``B = 200000, n_in = 2, n_out = 1`` (3.2 MB for ``X``), which keeps that transport small while
a per-sample Python loop's overhead, 1 to 2 us a sample whatever the width, stays.  Measured
on this project's 2-core machine while other test suites ran (one BLAS thread, three runs
each): vectorized forms (``@``, ``np.einsum``, a broadcast product summed) take 8-31 ms a call
through the sandbox and 3-14 ms in-process (the bare functions 0.1-4 ms); a loop over the
samples takes 260-490 ms in ``dense_forward`` alone and 410-960 ms in ``dense_backward`` alone,
through either runner.  In CPU time of the sandbox (its cgroup), which is what is judged,
``@`` took 10-16 ms a call and a loop 230-250 ms forward and 700-750 ms backward, alike on an
idle machine and beside two CPU-burning processes (when the wall times of ``@`` rose from
12-53 ms to 56-78 ms).  The budget, 100 ms per function in the best of up to three tries (a
retry only after a miss by less than 4x), sits between them with about 3x on each side, and
catches a loop in either function alone.
"""

from __future__ import annotations

import numpy as np

from graders.framework import CaseContext, Fail, Grader, Mistake
from graders.framework import checks as C
from graders.framework.case import judged_seconds

grader = Grader("dense", functions=["dense_forward", "dense_backward"])

FORWARD = "statement, 'Forward'"
BACKWARD = "statement, 'Backward'"
LARGE_BATCH = (200_000, 2, 1)  # B, n_in, n_out: narrow, so a per-sample loop's overhead dominates
LARGE_BATCH_BUDGET = 0.100  # seconds of CPU (wall where not measurable) per function call, best try
LARGE_BATCH_TRIES = 3
SHAPES = {"Y": "(B, n_out)", "dX": "(B, n_in)", "dW": "(n_out, n_in)", "db": "(n_out,)"}


def layer(rng: np.random.Generator, B: int, n_in: int, n_out: int, dtype=np.float64):
    """Random ``X (B, n_in)``, ``W (n_out, n_in)``, ``b (n_out,)``, ``dY (B, n_out)``."""
    X = rng.standard_normal((B, n_in)).astype(dtype)
    W = rng.standard_normal((n_out, n_in)).astype(dtype)
    b = rng.standard_normal(n_out).astype(dtype)
    dY = rng.standard_normal((B, n_out)).astype(dtype)
    return X, W, b, dY


# --------------------------------------------------------------------------- mistakes

BIAS_MISSING = Mistake(
    "bias-not-broadcast", "Your Y is X @ W.T without the bias b.",
    f"the layer is affine: every output gets its own bias, in every sample ({FORWARD}).",
    lambda i, e: {"Y": e["Y"] - i["b"]},
)
BIAS_AS_COLUMN = Mistake(
    "bias-not-broadcast", "You added b as a column (b[:, None]), so b[j] went to sample j instead of output j.",
    f"b holds one value per output, so it lines up with the columns of Y, the same for every row ({FORWARD}).",
    lambda i, e: {"Y": e["Y"] - i["b"][None, :] + i["b"][:, None]},
)
BIAS_FIRST_ROW = Mistake(
    "bias-not-broadcast", "Only the first sample got the bias.",
    f"every sample, every row of Y, gets the same bias ({FORWARD}).",
    lambda i, e: {"Y": np.vstack([e["Y"][:1], e["Y"][1:] - i["b"]])},
)
DW_TRANSPOSED = Mistake(
    "dW-transposed", "Your dW is the transpose of the gradient (X.T @ dY, shape (n_in, n_out)).",
    f"a gradient has the shape of what it is the gradient of: dW is shaped like W, (n_out, n_in) ({BACKWARD}).",
    lambda i, e: {"dW": e["dW"].T},
)
DW_AVERAGED = Mistake(
    "grad-averaged", "You divided dW by the batch size B.",
    "the layer's gradients sum the samples' contributions; if the loss is a mean, its 1/B is already inside dY "
    "(statement, 'Conventions').",
    lambda i, e: {"dW": e["dW"] / i["X"].shape[0]},
)
DB_AVERAGED = Mistake(
    "grad-averaged", "You divided db by the batch size B (a mean of dY over the batch).",
    "the layer's gradients sum the samples' contributions; if the loss is a mean, its 1/B is already inside dY "
    "(statement, 'Conventions').",
    lambda i, e: {"db": e["db"] / i["X"].shape[0]},
)
DB_AXIS1 = Mistake(
    "db-wrong-axis", "Your db sums dY over the outputs (axis 1), giving one number per sample.",
    f"the bias is shared by all samples, so its gradient adds up the samples' rows of dY: one number per output "
    f"({BACKWARD}).",
    lambda i, e: {"db": i["dY"].sum(axis=1)},
)
DB_KEPT_2D = Mistake(
    "db-wrong-axis", "Your db kept the batch axis: shape (1, n_out) instead of (n_out,).",
    f"db has the shape of b, (n_out,): summing over the samples removes that axis ({BACKWARD}).",
    lambda i, e: {"db": i["dY"].sum(axis=0, keepdims=True)},
)
DB_TOTAL = Mistake(
    "db-wrong-axis", "Your db sums every entry of dY into one number.",
    f"db has one entry per output, each summing over the samples only ({BACKWARD}).",
    lambda i, e: {"db": np.asarray(i["dY"].sum())},
)
DX_W_TRANSPOSE = Mistake(
    "dX-used-W-transpose", "Your dX uses W.T (dY @ W.T), the formula of the layout where W is (n_in, n_out).",
    f"with W stored as (n_out, n_in), check which of W and W.T takes dY's (B, n_out) to X's (B, n_in) "
    f"({BACKWARD}).",
    lambda i, e: {"dX": i["dY"] @ i["W"].T},
)


def _positive_multiple(difference: np.ndarray, direction: np.ndarray) -> float:
    """The ``c > 0`` for which ``difference ≈ c * direction`` (least squares); raises if there is none."""
    scale = float(np.sum(direction * direction))
    c = float(np.sum(difference * direction)) / scale if scale > 0 else 0.0
    if not c > 0:
        raise ValueError("no positive multiple")
    return c


def _dx_with_updated_weights(i, e, a):
    """dX = dY @ (W - lr * dW) for the learning rate that fits the student's dX best."""
    step = -(i["dY"] @ e["dW"])
    lr = _positive_multiple(a["dX"].astype(np.float64) - e["dX"], step)
    return {"dX": e["dX"] + lr * step}


def _dw_with_weight_decay(i, e, a):
    """dW = dY.T @ X + lam * W for the decay that fits the student's dW best."""
    lam = _positive_multiple(a["dW"].astype(np.float64) - e["dW"], i["W"])
    return {"dW": e["dW"] + lam * i["W"]}


DX_UPDATED_WEIGHTS = Mistake(
    "dX-used-updated-weights", "Your dX is computed with weights already changed by an update step "
    "(dY @ (W - lr * dW)), not with the W of the forward pass.",
    f"the backward pass computes the gradients of the layer as it was in the forward pass; updating the "
    f"weights is a separate step that comes after ({BACKWARD}).",
    _dx_with_updated_weights, fit=True,
)
WEIGHT_DECAY = Mistake(
    "weight-decay-in-grad", "Your dW carries an L2 weight-decay term (a multiple of W added to dY.T @ X).",
    "dense_backward returns the gradient of the loss L alone; a regularizer, if you want one, belongs to the "
    "optimizer or the loss, not to this layer's gradient (statement, 'Conventions').",
    _dw_with_weight_decay, fit=True,
)
FORWARD_MISTAKES = (BIAS_MISSING, BIAS_AS_COLUMN, BIAS_FIRST_ROW)
BACKWARD_MISTAKES = (DW_TRANSPOSED, DW_AVERAGED, DB_AVERAGED, DB_AXIS1, DB_KEPT_2D, DB_TOTAL, DX_W_TRANSPOSE,
                     DX_UPDATED_WEIGHTS, WEIGHT_DECAY)


def check_forward(ctx: CaseContext, X, W, b) -> dict:
    return ctx.check_call("dense_forward", {"X": X, "W": W, "b": b}, returns="Y",
                          mistakes=FORWARD_MISTAKES, shapes=SHAPES)


def check_backward(ctx: CaseContext, X, W, dY) -> dict:
    return ctx.check_call("dense_backward", {"X": X, "W": W, "dY": dY}, returns=("dX", "dW", "db"),
                          mistakes=BACKWARD_MISTAKES, shapes=SHAPES)


# --------------------------------------------------------------------------- visible cases


@grader.case("forward: small batch", points=2,
             feeds="X (4, 3), W (2, 3), b (2,): standard normal", expects="Y = X @ W.T + b, shape (4, 2)",
             tell=f"Work through the worked example by hand ({FORWARD}).")
def forward_small(ctx: CaseContext) -> None:
    X, W, b, _ = layer(ctx.rng, 4, 3, 2)
    check_forward(ctx, X, W, b)


@grader.case("forward: bias on every row (B = n_out)", points=1,
             feeds="X (3, 4), W (3, 4), b (3,): as many samples as outputs",
             expects="Y = X @ W.T + b, b added along the rows")
def forward_square(ctx: CaseContext) -> None:
    X, W, b, _ = layer(ctx.rng, 3, 4, 3)
    check_forward(ctx, X, W, b)


@grader.case("backward: small batch", points=3,
             feeds="X (5, 4), W (3, 4), dY (5, 3): standard normal",
             expects="dX (5, 4), dW (3, 4), db (3,) by the formulas of the statement",
             tell=f"Check each gradient's shape, then its values on the worked example ({BACKWARD}).")
def backward_small(ctx: CaseContext) -> None:
    X, W, _, dY = layer(ctx.rng, 5, 4, 3)
    check_backward(ctx, X, W, dY)


@grader.case("backward: square weights (n_in = n_out)", points=2,
             feeds="X (4, 3), W (3, 3), dY (4, 3)", expects="dX = dY @ W (not dY @ W.T), dW, db",
             tell=f"With a square W the shapes cannot tell W from W.T; the values can ({BACKWARD}).")
def backward_square(ctx: CaseContext) -> None:
    X, W, _, dY = layer(ctx.rng, 4, 3, 3)
    check_backward(ctx, X, W, dY)


@grader.case("edge shapes: B = 1, n_in = 1, n_out = 1", points=2,
             feeds="three layers: B = 1 (1, 3)->(2,); n_in = 1 (4, 1)->(3,); n_out = 1 (4, 3)->(1,)",
             expects="forward and backward keep every axis, even of length 1")
def edge_shapes(ctx: CaseContext) -> None:
    problems = C.Problems()
    for B, n_in, n_out in ((1, 3, 2), (4, 1, 3), (4, 3, 1)):
        X, W, b, dY = layer(ctx.rng, B, n_in, n_out)
        with problems.check():
            check_forward(ctx, X, W, b)
        with problems.check():
            check_backward(ctx, X, W, dY)
    problems.raise_if_any()


@grader.case("float32 in, float32 out", points=1,
             feeds="X, W, b, dY as float32 (B = 6, n_in = 5, n_out = 4)",
             expects="Y, dX, dW, db all float32, values within float32 tolerance")
def float32(ctx: CaseContext) -> None:
    X, W, b, dY = layer(ctx.rng, 6, 5, 4, np.float32)
    problems = C.Problems()
    with problems.check():
        check_forward(ctx, X, W, b)
    with problems.check():
        check_backward(ctx, X, W, dY)
    problems.raise_if_any()


def gradient_sums(ctx: CaseContext, X, W, dY, label: str, problems: C.Problems):
    """The student's ``(dW, db)`` for ``X, W, dY``, conformed to the contract's shapes (None where they
    cannot be compared); a ``db`` kept 2-D is named as such."""
    value = ctx.call("dense_backward", X, W, dY).value
    _, dW, db = (C.as_array(v, n) for v, n in zip(C.as_tuple(value, ("dX", "dW", "db"), "dense_backward"),
                                                   ("dX", "dW", "db")))
    n_out = W.shape[0]
    if db.shape == (1, n_out) and n_out > 1:
        problems.add(DB_KEPT_2D.fail())
    return (C.conform(dW, W.shape, None, f"dW{label}", SHAPES["dW"], problems),
            C.conform(db, (n_out,), None, f"db{label}", SHAPES["db"], problems))


@grader.case("batch gradient = sum of per-sample gradients", points=2,
             feeds="X (6, 4), W (3, 4), dY (6, 3): the whole batch, then each sample alone",
             expects="dW and db of the batch equal the sums of the six single-sample dW and db",
             tell="The batch gradient adds up the samples' gradients (statement, 'Backward': every sample "
                  "contributes its own term).")
def batch_is_sum(ctx: CaseContext) -> None:
    X, W, _, dY = layer(ctx.rng, 6, 4, 3)
    problems = C.Problems()
    dW, db = gradient_sums(ctx, X, W, dY, "", problems)
    dW_sum, db_sum = np.zeros_like(W), np.zeros(W.shape[0])
    for i in range(X.shape[0]):
        dWi, dbi = gradient_sums(ctx, X[i:i + 1], W, dY[i:i + 1], " of one sample", problems)
        dW_sum = dW_sum + (dWi if dWi is not None else np.nan)
        db_sum = db_sum + (dbi if dbi is not None else np.nan)
    pairs = [(got, total, name) for got, total, name in ((dW, dW_sum, "dW"), (db, db_sum, "db"))
             if got is not None and np.all(np.isfinite(total))]
    if any(C.is_close(got, total / X.shape[0]) for got, total, _ in pairs):
        problems.add(Fail("Your batch gradient is the mean of the per-sample gradients, not their sum.",
                          ["grad-averaged"], hints=[DW_AVERAGED.hint]))
    else:
        for got, total, name in pairs:
            with problems.check():
                C.expect_close(got, total, f"{name} (batch) vs the sum of per-sample {name}", hidden=False)
    problems.raise_if_any(hints=[ctx.case.tell] if not problems.diagnoses else [])


def correct_outputs(function: str, X: np.ndarray, W: np.ndarray, third: np.ndarray) -> dict[str, np.ndarray]:
    """The contract's formulas, computed here on the trusted side, for the large batch.

    ``third`` is ``b`` for ``dense_forward`` and ``dY`` for ``dense_backward``.  The large
    batch's expected values are neither stored with the exercise (4.8 MB a try) nor taken
    from the submission itself, so every case runs with and without the references.
    """
    if function == "dense_forward":
        return {"Y": X @ W.T + third}
    return {"dX": third @ W, "dW": third.T @ X, "db": third.sum(axis=0)}


LARGE_BATCH_RETURNS = {"dense_forward": ("Y",), "dense_backward": ("dX", "dW", "db")}


def check_large_result(ctx: CaseContext, function: str, args: tuple, result) -> None:
    """Every entry of one large-batch answer against :func:`correct_outputs` of its own inputs."""
    names = LARGE_BATCH_RETURNS[function]
    value = result.value if len(names) == 1 else C.as_tuple(result.value, names, function)
    actual = [C.as_array(value, names[0])] if len(names) == 1 else [C.as_array(v, n) for v, n in zip(value, names)]
    labels = ["X", "W", "b" if function == "dense_forward" else "dY"]
    try:
        for got, (name, exp) in zip(actual, correct_outputs(function, *args).items()):
            C.expect_shape(got, exp.shape, name, SHAPES[name])
            C.expect_finite(got, name)
            C.expect_close(got, exp, name, hidden=ctx.hidden)
        C.expect_unchanged(result.mutated, labels, function)
    except Fail as f:
        raise Fail(f"On the large batch ({args[0].shape[0]} samples), `{function}`: {f.message}\n"
                   f"Every entry is checked, whatever the size of the batch. Check the formulas: {FORWARD}; "
                   f"{BACKWARD}.", f.diagnoses) from None


@grader.case("large batch within the time budget", points=2,
             feeds="X (200000, 2), W (1, 2), b (1,), dY (200000, 1): new random values for every try",
             expects=f"dense_forward and dense_backward each within {LARGE_BATCH_BUDGET * 1000:.0f} ms of CPU time "
                     f"in the best of {LARGE_BATCH_TRIES} tries: vectorized, no Python loop over samples; every "
                     f"entry of every try's result right",
             tell="Use whole-matrix products (X @ W.T, dY.T @ X) instead of a loop over the samples.")
def large_batch(ctx: CaseContext) -> None:
    slow = []
    for function in LARGE_BATCH_RETURNS:
        best = float("inf")
        for _ in range(LARGE_BATCH_TRIES):
            # Fresh inputs for every try, drawn from the case's generator (the run's seed on the
            # server): nothing to precompute at import, nothing to remember from an earlier try.
            X, W, b, dY = layer(ctx.rng, *LARGE_BATCH)
            args = (X, W, b) if function == "dense_forward" else (X, W, dY)
            result = ctx.call(function, *args)
            check_large_result(ctx, function, args, result)  # this try's result, before its time counts
            seconds = judged_seconds(result)
            best = min(best, seconds)
            # another try only for a miss small enough to be noise; a loop takes 3-10x the budget
            if seconds <= LARGE_BATCH_BUDGET or seconds > 4 * LARGE_BATCH_BUDGET:
                break
        if best > LARGE_BATCH_BUDGET:
            slow.append(f"`{function}` took {best * 1000:.0f} ms")
    if slow:
        raise Fail(f"On {LARGE_BATCH[0]} samples {' and '.join(slow)} (best of up to {LARGE_BATCH_TRIES} tries); "
                   f"the budget is {LARGE_BATCH_BUDGET * 1000:.0f} ms per function. {ctx.case.tell}", ["too-slow"])


# --------------------------------------------------------------------------- hidden cases


@grader.case("forward: random shapes", points=1, visibility="hidden",
             feeds="a random layer, B, n_in, n_out in 2..9", expects="Y = X @ W.T + b")
def forward_random(ctx: CaseContext) -> None:
    B, n_in, n_out = (int(v) for v in ctx.rng.integers(2, 10, size=3))
    X, W, b, _ = layer(ctx.rng, B, n_in, n_out)
    check_forward(ctx, X, W, b)


@grader.case("backward: random shapes", points=2, visibility="hidden",
             feeds="a random layer, B, n_in, n_out in 2..9", expects="dX, dW, db by the formulas")
def backward_random(ctx: CaseContext) -> None:
    B, n_in, n_out = (int(v) for v in ctx.rng.integers(2, 10, size=3))
    X, W, _, dY = layer(ctx.rng, B, n_in, n_out)
    check_backward(ctx, X, W, dY)


@grader.case("backward: scaled inputs, float32", points=1, visibility="hidden",
             feeds="float32 X (64, 12), W (10, 12), dY (64, 10) with entries up to 100 in size",
             expects="float32 gradients within float32 tolerance")
def backward_scaled(ctx: CaseContext) -> None:
    X, W, b, dY = layer(ctx.rng, 64, 12, 10, np.float32)
    problems = C.Problems()
    with problems.check():
        check_forward(ctx, X * np.float32(100), W, b)
    with problems.check():
        check_backward(ctx, X * np.float32(100), W, dY * np.float32(10))
    problems.raise_if_any()
