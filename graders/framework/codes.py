"""The diagnosis codes: the one list of every code a report can carry.

Each code has a scope (``any`` exercise, or one exercise id), whether a test that ends in
it ends the sandbox session (``fatal``), whether the student's side of the sandbox may
report it itself (``sandbox``: anything else is observed by the trusted side and never
taken from the sandbox's word), and an explanation in a student's words that reports,
the CLI and the dashboard show.  ``contract`` says whether the code is in the exercise
contract's table; the others are this project's additions (the contract allows more
codes, never renamed ones).

This module imports only the standard library: the sandbox's runner files do not need
it, and every other part of nngrade may.
"""

from __future__ import annotations

from dataclasses import dataclass

ANY = "any"


@dataclass(frozen=True)
class Code:
    """One diagnosis code.

    ``scope`` is ``any`` or the exercise that names the code (the contract's table);
    ``also`` lists further exercises whose graders name it too.
    """

    code: str
    scope: str
    explanation: str
    fatal: bool = False
    sandbox: bool = False
    contract: bool = True
    also: tuple[str, ...] = ()

    @property
    def scopes(self) -> tuple[str, ...]:
        return (self.scope, *self.also)


def _codes(*codes: Code) -> dict[str, Code]:
    table: dict[str, Code] = {}
    for c in codes:
        if c.code in table:
            raise ValueError(f"diagnosis code {c.code!r} is listed twice")
        table[c.code] = c
    return table


CODES: dict[str, Code] = _codes(
    # ------------------------------------------------------------------ any exercise
    Code("syntax-error", ANY, "Python cannot read the file: a syntax error, or a statement in the wrong place.",
         sandbox=True),
    Code("missing-function", ANY, "A function the exercise asks for is not defined at module level "
                                  "(misspelled, nested inside another function, or not written yet).", sandbox=True),
    Code("forbidden-import", ANY, "The code imports a package other than NumPy and the Python standard library; "
                                 "nothing else is installed for submissions.", sandbox=True),
    Code("exception", ANY, "The code raised an exception (or called sys.exit) instead of returning a result.",
         sandbox=True),
    Code("timeout", ANY, "The code ran past its time limit: an infinite loop, a sleep, or a loop over samples "
                         "where a matrix product belongs.", fatal=True),
    Code("memory-limit", ANY, "The code used more memory than the exercise allows.", fatal=True, sandbox=True),
    Code("crashed", ANY, "The process running the code ended abruptly (os._exit, a signal, a crash in native "
                         "code) before it returned a result.", fatal=True),
    Code("output-limit", ANY, "The code printed more than the output limit; prints inside loops are the usual "
                              "cause.", fatal=True),
    Code("bad-return-type", ANY, "A function returned something other than what the statement asks for: not an "
                                 "array, a tuple of the wrong length, a dict without the expected keys.",
         sandbox=True),
    Code("wrong-shape", ANY, "A returned array has the wrong shape: a transposed result, an axis too many or too "
                             "few, or a sum over the wrong axis."),
    Code("wrong-dtype", ANY, "A returned array has another dtype than the inputs (e.g. float64 from float32 "
                             "inputs): the precision was changed."),
    Code("not-finite", ANY, "A returned array contains nan or inf."),
    Code("input-mutated", ANY, "A function modified one of its input arrays in place instead of returning new "
                               "arrays.", sandbox=True),
    Code("too-slow", ANY, "The code is correct but too slow for a large input: a Python loop over samples where "
                          "a vectorized NumPy expression belongs."),
    Code("grader-error", ANY, "The grader itself failed on this test; this is not a mistake in the code, and the "
                              "instructor can regrade it.", contract=False),
    # ------------------------------------------------------------------ dense
    Code("dW-transposed", "dense", "dW is the transpose of the gradient: a weight's gradient has the weight's "
                                   "own shape, (n_out, n_in)."),
    Code("grad-averaged", "dense", "A gradient was divided by the batch size; a layer's gradients sum over the "
                                   "batch (any 1/B of a mean loss is already inside dY).", also=("lora",)),
    Code("db-wrong-axis", "dense", "db is summed over the wrong axis, over everything, or kept 2-D; the bias "
                                   "gradient sums over the samples and has the bias's shape (n_out,)."),
    Code("dX-used-W-transpose", "dense", "dX was computed with W.T; with W stored as (n_out, n_in) the gradient "
                                         "with respect to X multiplies dY by W itself."),
    Code("bias-not-broadcast", "dense", "The bias is missing, or not added to every row of the output."),
    Code("dX-used-updated-weights", "dense", "dX was computed with weights already changed by an update step; "
                                             "the gradient uses the weights of the forward pass."),
    Code("weight-decay-in-grad", "dense", "An L2 weight-decay term was added to dW or db; the layer's gradient "
                                          "is the gradient of the loss alone."),
    # ------------------------------------------------------------------ lora
    Code("adapter-dead", "lora", "Both LoRA factors start at zero, so neither ever gets a gradient: the adapter "
                                 "can never learn."),
    Code("lora-mirrored", "lora", "A is zero and B is random: the mirrored convention. A is drawn at random and "
                                  "B starts at zero."),
    Code("global-random", "lora", "The random draws come from the global np.random, or from a generator the "
                                  "function seeds itself, instead of the generator it was given.",
         also=("two_layer",)),
    Code("A-rank-deficient", "lora", "A has rank lower than r (repeated or constant columns), so the adapter can "
                                     "learn only a lower-rank update."),
    Code("W0-gradient", "lora", "The frozen weights W0 were updated, modified or given a gradient; only A and B "
                                "are trained."),
    Code("B-not-zero", "lora", "B does not start at zero, so the adapted layer does not start out equal to the "
                               "pretrained one.", contract=False),
    Code("adapter-ignored", "lora", "The forward pass leaves out the adapter A @ B and uses W0 alone.",
         contract=False),
    Code("grad-transposed", "lora", "dA or dB is the transpose of its gradient; each has the shape of its "
                                    "factor.", contract=False),
    # ------------------------------------------------------------------ toeplitz
    Code("kernel-not-flipped", "toeplitz", "The kernel is not flipped: the matrix computes a cross-correlation, "
                                           "not a convolution."),
    Code("even-kernel-off-by-one", "toeplitz", "For an even kernel length the centre is off by one: the output "
                                               "is shifted by one position compared with mode='same'."),
    Code("circulant-wraparound", "toeplitz", "The matrix wraps around (a circulant matrix): entries past the ends "
                                             "of x are taken from the other end instead of being zero."),
    Code("full-or-valid-shape", "toeplitz", "The matrix has the shape of a 'full' or 'valid' convolution (or its "
                                            "transpose) instead of the (n, n) of mode='same'."),
    # ------------------------------------------------------------------ attention
    Code("softmax-wrong-axis", "attention", "The softmax normalizes over the wrong axis: columns sum to 1 "
                                            "instead of rows."),
    Code("rows-not-normalised", "attention", "The rows of the attention weights do not sum to 1 (or some weight "
                                             "is negative)."),
    Code("missing-scale", "attention", "The scores are not scaled by 1/sqrt(d_k) before the softmax."),
    Code("scale-by-dk", "attention", "The scores are divided by d_k instead of sqrt(d_k)."),
    Code("scale-by-keys", "attention", "The scores are divided by the square root of the number of keys T_k "
                                       "instead of sqrt(d_k), the key dimension."),
    Code("scale-after-softmax", "attention", "The 1/sqrt(d_k) scale is applied to the weights after the softmax "
                                             "instead of to the scores before it."),
    Code("softmax-overflow", "attention", "The softmax overflows to nan or inf for large scores: exp of a large "
                                          "score is inf in floating point."),
    Code("out-transposed", "attention", "The output is transposed, or mixes the values with the columns of A "
                                        "instead of its rows; out has one row per query, shape (T_q, d_v)."),
    Code("axis-ignored", "attention", "softmax ignores its axis argument."),
    Code("counterexample-invalid", "attention", "The proposed counterexample does not show a token attending "
                                                "most to another token (or is not finite, or has the wrong "
                                                "shape)."),
    # ------------------------------------------------------------------ two_layer
    Code("grad-not-averaged", "two_layer", "The gradients are not divided by the batch size N, while the loss "
                                           "is a mean over the batch."),
    Code("grad-averaged-twice", "two_layer", "The gradients are divided by the batch size N twice."),
    Code("forward-returns-logits", "two_layer", "forward returns the logit z instead of the probability "
                                                "sigmoid(z)."),
    Code("relu-grad-wrong-point", "two_layer", "The ReLU derivative is taken at the wrong point (e.g. at the "
                                               "activation or the upstream gradient instead of the "
                                               "pre-activation)."),
    Code("sigmoid-overflow", "two_layer", "The sigmoid or the loss overflows for large logits (exp(-z) becomes "
                                          "inf, log(0) appears) or gives nan."),
    Code("no-hidden-nonlinearity", "two_layer", "The hidden layer has no non-linearity, so the network can only "
                                                "draw a straight decision boundary."),
    Code("wrong-hidden-activation", "two_layer", "The hidden layer uses sigmoid or tanh where the network has "
                                                 "ReLU."),
    Code("loss-value-wrong", "two_layer", "The loss value is not the mean binary cross-entropy (a sum, a missing "
                                          "term, a typo), even if the gradients are right."),
    Code("init-not-xavier", "two_layer", "The weights are not Xavier-normal (e.g. 0.01 * randn, He or uniform), "
                                         "or the biases are not zero."),
    Code("loss-not-decreasing", "two_layer", "The training loss rises or diverges instead of falling."),
    Code("accuracy-below-threshold", "two_layer", "The trained network does not reach the required accuracy on "
                                                  "held-out points."),
    Code("nondeterministic", "two_layer", "train gives different results for the same seed."),
)

#: Codes the student's side of the sandbox may report about itself.
SANDBOX_CODES = frozenset(c.code for c in CODES.values() if c.sandbox)
#: Faults after which the session cannot be trusted to go on: the runner starts a new one.
FATAL_CODES = frozenset(c.code for c in CODES.values() if c.fatal)


class UnknownCode(KeyError):
    """A code that is not in the registry."""


def get(code: str) -> Code:
    try:
        return CODES[code]
    except KeyError:
        raise UnknownCode(code) from None


def explain(code: str) -> str:
    """The code's explanation in a student's words ('' for an unknown code)."""
    entry = CODES.get(code)
    return entry.explanation if entry is not None else ""


def scopes(code: str) -> tuple[str, ...]:
    """The exercises (or ``("any",)``) that name ``code``."""
    return get(code).scopes


def for_exercise(exercise: str) -> list[Code]:
    """Every code a report of ``exercise`` can carry: the general ones, then the exercise's own."""
    return [c for c in CODES.values() if c.scope == ANY or exercise in scopes(c.code)]
