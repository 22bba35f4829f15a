"""Grader of ``dense``: a batched dense layer, forward and backward.

Contract: ``dense_forward(X, W, b) -> Y = X @ W.T + b`` and
``dense_backward(X, W, dY) -> (dX, dW, db)`` with ``dX = dY @ W``, ``dW = dY.T @ X``,
``db = dY.sum(axis=0)``; samples are rows, ``W`` is ``(n_out, n_in)``.

The time budget of the large-batch case.  A grader sees each call's round trip: through the
sandbox that includes sending the arrays and the results over its socket, in-process the
copies for the mutation check.  So the layer is narrow, ``B = 200000, n_in = 2, n_out = 1``
(3.2 MB for ``X``), which keeps that transport small while a per-sample Python loop's
overhead, 1 to 2 us a sample whatever the width, stays.  Measured on this project's
2-core machine while other test suites ran (one BLAS thread, three runs each): vectorized
forms (``@``, ``np.einsum``, a broadcast product summed) take 8-31 ms a call through the
sandbox and 3-14 ms in-process (the bare functions 0.1-4 ms); a loop over the samples
takes 260-490 ms in ``dense_forward`` alone and 410-960 ms in ``dense_backward`` alone,
through either runner.  The budget, 100 ms per function, best of three tries, sits between
them with about 3x on each side, and catches a loop in either function alone.  (The earlier
``B = 20000, n_in = 16, n_out = 8`` with 40 ms for the pair let a loop in only one function
through, 24 ms forward or 35 ms backward in-process; and on a wider layer the transport
alone grows: ``200000 x 4 -> 3`` took 40-70 ms a call through the sandbox for ``@``.)
"""

from __future__ import annotations

import functools

import numpy as np

from graders.framework import CaseContext, Fail, Grader, Mistake
from graders.framework import checks as C

grader = Grader("dense", functions=["dense_forward", "dense_backward"])

FORWARD = "statement, 'Forward'"
BACKWARD = "statement, 'Backward'"
LARGE_BATCH = (200_000, 2, 1)  # B, n_in, n_out: narrow, so a per-sample loop's overhead dominates
LARGE_BATCH_BUDGET = 0.100  # seconds per function call, best of three tries
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


@functools.lru_cache(maxsize=1)
def large_inputs() -> tuple[np.ndarray, ...]:
    """The large batch, made once per process (drawing 600 000 normals costs ~9 ms a run).

    Read-only: the proxy sends copies' bytes, and nothing may change the cached arrays.
    """
    arrays = layer(np.random.default_rng(200_000), *LARGE_BATCH)
    for a in arrays:
        a.setflags(write=False)
    return arrays


@grader.case("large batch within the time budget", points=2,
             feeds="X (200000, 2), W (1, 2), b (1,), dY (200000, 1)",
             expects=f"dense_forward and dense_backward each in under {LARGE_BATCH_BUDGET * 1000:.0f} ms (best "
                     "of 3): vectorized, no Python loop over samples; results consistent with the first rows alone",
             tell="Use whole-matrix products (X @ W.T, dY.T @ X) instead of a loop over the samples.")
def large_batch(ctx: CaseContext) -> None:
    X, W, b, dY = large_inputs()
    args = {"dense_forward": (X, W, b), "dense_backward": (X, W, dY)}
    best = {fn: float("inf") for fn in args}
    results = {}
    for _ in range(3):
        for fn in args:
            # retry only a call that missed the budget by a margin small enough to be noise
            if fn not in results or LARGE_BATCH_BUDGET < best[fn] <= 4 * LARGE_BATCH_BUDGET:
                results[fn] = ctx.call(fn, *args[fn])
                best[fn] = min(best[fn], results[fn].seconds)
    fwd, bwd = results["dense_forward"], results["dense_backward"]
    Y = C.as_array(fwd.value, "Y")
    C.expect_shape(Y, (X.shape[0], W.shape[0]), "Y", SHAPES["Y"])
    C.expect_finite(Y, "Y")
    dX, dW, db = (C.as_array(v, n) for v, n in zip(C.as_tuple(bwd.value, ("dX", "dW", "db"), "dense_backward"),
                                                   ("dX", "dW", "db")))
    C.expect_shape(dX, X.shape, "dX", SHAPES["dX"])
    C.expect_shape(dW, W.shape, "dW", SHAPES["dW"])
    C.expect_shape(db, (W.shape[0],), "db", SHAPES["db"])
    head = C.as_array(ctx.call("dense_forward", X[:3], W, b).value, "Y of the first 3 rows")
    C.expect_shape(head, (3, W.shape[0]), "Y of the first 3 rows", SHAPES["Y"])
    C.expect_close(Y[:3], head, "Y[:3] of the large batch vs the first 3 rows alone", hidden=False)
    slow = [f"`{fn}` took {t * 1000:.0f} ms" for fn, t in best.items() if t > LARGE_BATCH_BUDGET]
    if slow:
        raise Fail(f"On {X.shape[0]} samples {' and '.join(slow)} (best of 3); the budget is "
                   f"{LARGE_BATCH_BUDGET * 1000:.0f} ms per function. {ctx.case.tell}", ["too-slow"])


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
