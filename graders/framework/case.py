"""Cases, mistakes and graders: the vocabulary a grader is written in.

A grader is a list of :class:`Case` objects.  Each says what it feeds, what it expects,
how many points it is worth, whether students see it, and what to tell a student whose
code fails it.  Its body gets a :class:`CaseContext`: a seeded generator for its inputs,
the student proxy, the expected values (from the reference wherever it is installed, else
stored with the exercise for visible cases: :func:`case_sources`) and :meth:`CaseContext.check_call`, which
does the common "call, compare, name the mistake" in one line.
"""

from __future__ import annotations

import hashlib
import inspect
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol, Sequence

import numpy as np

from . import checks as C
from . import codes
from .checks import Fail
from .proxy import CallResult, StudentSession


# --------------------------------------------------------------------------- mistakes


@dataclass(frozen=True)
class Mistake:
    """A known wrong formula, and what to tell a student whose output matches it.

    Parameters
    ----------
    code : str
        Diagnosis code of the registry (:mod:`graders.framework.codes`); checked when the
        mistake is made.
    says : str
        What the student did, in the student's words ("You divided dW by the batch size").
        Neither the code nor the hint belongs in it.
    hint : str
        Where to look: the idea, and the statement's section.
    predict : callable
        ``predict(inputs, expected) -> {output name: array}``: what this mistake would
        return for these inputs, given the correct outputs.  Only the outputs the mistake
        changes need to be listed.  May raise to mean "not applicable here".
    fit : bool
        The wrong formula has a free parameter (a learning rate, a decay): ``predict`` is
        then called as ``predict(inputs, expected, actual)`` to fit it to the student's
        outputs, and the fitted prediction must still equal them everywhere.
    """

    code: str
    says: str
    hint: str
    predict: Callable[..., Mapping[str, Any]]
    fit: bool = False

    def __post_init__(self) -> None:
        codes.get(self.code)

    def matches(self, inputs: Mapping[str, Any], expected: Mapping[str, Any], actual: Mapping[str, Any],
                raw: Mapping[str, Any] | None = None) -> bool:
        """True if every output this mistake predicts equals the student's, and the
        prediction differs from the correct answer (so the mistake is visible here).

        ``actual`` holds the student's outputs converted to the expected shape and dtype
        where that was possible (:func:`checks.conform`), ``raw`` the outputs as returned;
        a prediction is compared with whichever has its shape, at the coarser tolerance of
        the expected and the student's dtype.
        """
        try:
            if self.fit:
                predicted = self.predict(inputs, expected, {**(raw or {}), **actual})
            else:
                predicted = self.predict(inputs, expected)
        except Exception:
            return False
        if not predicted:
            return False
        differs = False
        for name, wrong in predicted.items():
            wrong = np.asarray(wrong, dtype=np.float64)
            exp = expected.get(name)
            candidates = [a for a in (actual.get(name), (raw or {}).get(name))
                          if type(a) is np.ndarray and a.shape == wrong.shape and a.dtype.kind in "biuf"]
            if not candidates:
                return False
            got = candidates[0]
            exp_dtype = exp.dtype if type(exp) is np.ndarray and exp.dtype.kind == "f" else np.float64
            dtype = C.comparison_dtype(exp_dtype, got.dtype)
            if not C.is_close(got.astype(np.float64), wrong, dtype):
                return False
            if type(exp) is not np.ndarray or not C.is_close(wrong, exp.astype(np.float64), dtype):
                differs = True
        return differs

    def fail(self) -> Fail:
        """This mistake as a failure: what the student did, its code, its hint."""
        return Fail(self.says, [self.code], hints=[self.hint])


def named_mistakes(mistakes: Sequence[Mistake], inputs: Mapping[str, Any], expected: Mapping[str, Any],
                   actual: Mapping[str, Any], raw: Mapping[str, Any] | None = None) -> list[Fail]:
    """The failures of the ``mistakes`` the student's outputs match (see :meth:`Mistake.matches`)."""
    return [m.fail() for m in mistakes if m.matches(inputs, expected, actual, raw)]


# --------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class Scalar:
    """A returned number (e.g. a loss), compared as a 0-d float64 array."""

    name: str


@dataclass(frozen=True)
class Mapping_:
    """A returned dict of arrays with fixed keys (e.g. gradients)."""

    name: str
    keys: tuple[str, ...]


OutputSpec = str | Scalar | Mapping_


def _leaf_names(spec: OutputSpec) -> list[str]:
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, Scalar):
        return [spec.name]
    return [f"{spec.name}[{k!r}]" for k in spec.keys]


def _unpack_one(spec: OutputSpec, value: Any, where: str) -> dict[str, Any]:
    if isinstance(spec, str):
        return {spec: C.as_array(value, spec)}
    if isinstance(spec, Scalar):
        return {spec.name: np.asarray(C.as_number(value, spec.name))}
    d = C.as_dict(value, spec.keys, spec.name)
    return {f"{spec.name}[{k!r}]": C.as_array(d[k], f"{spec.name}[{k!r}]") for k in spec.keys}


def unpack(returns: OutputSpec | Sequence[OutputSpec], value: Any, function: str) -> dict[str, Any]:
    """Flatten a returned value into named arrays according to ``returns``."""
    if isinstance(returns, (str, Scalar, Mapping_)):
        return _unpack_one(returns, value, function)
    names = [s if isinstance(s, str) else s.name for s in returns]
    items = C.as_tuple(value, names, function)
    out: dict[str, Any] = {}
    for spec, item in zip(returns, items):
        out.update(_unpack_one(spec, item, function))
    return out


# --------------------------------------------------------------------------- oracles


class StaleExpectations(RuntimeError):
    """The stored expected outputs do not match the inputs a visible case generated."""


class Oracle(Protocol):
    def expected(self, key: str, function: str, args: tuple, kwargs: dict[str, Any]) -> Any: ...


def digest(args: tuple, kwargs: dict[str, Any]) -> str:
    from .plain import encode, to_plain

    return hashlib.sha256(encode(to_plain((args, kwargs), allow_rng=True))).hexdigest()[:32]


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """One test of a grader.

    Attributes
    ----------
    name : str
        Unique within the grader; shown to students and used to seed the case.
    points : float
    visibility : {"visible", "hidden"}
    feeds : str
        What the case gives the student's functions.
    expects : str
        What it checks.
    tell : str
        What to tell the student when it fails for a reason no mistake detector names.
    body : callable
        ``body(ctx)``; returns normally to pass, raises :class:`Fail` otherwise.
    """

    name: str
    points: float
    visibility: str
    feeds: str
    expects: str
    tell: str
    body: Callable[["CaseContext"], None]

    @property
    def hidden(self) -> bool:
        return self.visibility == "hidden"


class Grader:
    """The cases of one exercise, in the order they run."""

    def __init__(self, exercise: str, *, functions: Sequence[str]):
        self.exercise = exercise
        self.functions = tuple(functions)
        self.cases: list[Case] = []
        caller = inspect.stack()[1]
        try:
            source = open(caller.filename, "rb").read()
        except OSError:
            source = exercise.encode()
        #: Changes whenever the grader's own source changes.
        self.source_hash = hashlib.sha256(source).hexdigest()[:12]

    def case(self, name: str, *, points: float, feeds: str, expects: str, visibility: str = "visible",
             tell: str = "") -> Callable[[Callable[["CaseContext"], None]], Callable[["CaseContext"], None]]:
        """Decorator registering ``body`` as a case."""
        if visibility not in ("visible", "hidden"):
            raise ValueError(f"visibility must be 'visible' or 'hidden', not {visibility!r}")
        if any(c.name == name for c in self.cases):
            raise ValueError(f"duplicate case name {name!r} in grader {self.exercise}")

        def register(body: Callable[["CaseContext"], None]) -> Callable[["CaseContext"], None]:
            self.cases.append(Case(name, float(points), visibility, feeds, expects, tell, body))
            return body

        return register

    @property
    def total_points(self) -> float:
        return sum(c.points for c in self.cases)

    def visible_points(self) -> float:
        return sum(c.points for c in self.cases if not c.hidden)


def case_seed(case_name: str, run_seed: int | None) -> np.random.SeedSequence:
    """A case's seed: from its name and the run's seed, or (``run_seed=None``) from its name alone."""
    name_key = zlib.crc32(case_name.encode())
    entropy = [name_key] if run_seed is None else [int(run_seed), name_key]
    return np.random.SeedSequence(entropy)


def case_sources(case: Case, run_seed: int, *, visible_oracle: Oracle,
                 hidden_oracle: Oracle | None) -> tuple[np.random.Generator, Oracle]:
    """Where one case's inputs and expected values come from: the one place that decides.

    * Wherever the reference solutions are installed (``hidden_oracle`` given: the server, and
      ``nngrade check --all`` in a source checkout), every case, visible or hidden, draws its
      inputs from the run's seed and gets its expected values from the reference.  The inputs
      are new in every run, so the stored ``visible.npz`` that students have cannot be
      replayed, by argument digest or otherwise, for points.
    * Without them (a student's self-check), visible cases draw fixed inputs from their name
      and read the expected outputs stored with the exercise; hidden cases do not run.

    Returns
    -------
    (numpy.random.Generator, Oracle)
        The case's generator and the oracle of its expected values.
    """
    if hidden_oracle is not None:
        return np.random.default_rng(case_seed(case.name, run_seed)), hidden_oracle
    if case.hidden:
        raise ValueError(f"hidden case {case.name!r} needs the reference oracle")
    return np.random.default_rng(case_seed(case.name, None)), visible_oracle


def judged_seconds(result: CallResult) -> float:
    """The time a speed check judges a call by: the CPU time the sandbox spent on it, measured
    from outside the student's reach, which a loaded machine does not inflate; the call's wall
    time where CPU time cannot be measured (``cpu_seconds is None``, e.g. in-process)."""
    return result.seconds if result.cpu_seconds is None else result.cpu_seconds


@dataclass
class CaseContext:
    """What a case body works with."""

    case: Case
    student: StudentSession
    oracle: Oracle
    rng: np.random.Generator
    _calls: int = field(default=0, repr=False)

    @property
    def hidden(self) -> bool:
        return self.case.hidden

    def call(self, function: str, *args: Any, **kwargs: Any) -> CallResult:
        """Call the student's function through the proxy (faults propagate to the runner)."""
        return self.student.call(function, *args, **kwargs)

    def expected(self, function: str, *args: Any, **kwargs: Any) -> Any:
        """The correct result of ``function(*args, **kwargs)`` (stored or from the reference)."""
        key = f"{self.case.name}#{self._calls}"
        self._calls += 1
        return self.oracle.expected(key, function, args, kwargs)

    def seed(self) -> int:
        """A fresh integer seed drawn from this case's generator (for :class:`Rng` arguments)."""
        return int(self.rng.integers(0, 2**31 - 1))

    def check_call(self, function: str, args: Mapping[str, Any], *,
                   returns: OutputSpec | Sequence[OutputSpec],
                   kwargs: Mapping[str, Any] | None = None,
                   mistakes: Sequence[Mistake] = (),
                   shapes: Mapping[str, str] | None = None,
                   check_dtype: bool = True) -> dict[str, np.ndarray]:
        """Call ``function`` with ``args`` (in order), and check every returned output.

        Checks, per output: type, shape, dtype, finiteness and values against the
        expected result, then that the inputs are unchanged.  A wrong dtype, or a shape
        that differs only by axes of length 1, does not stop the checks: the values are
        compared after conversion (:func:`checks.conform`), so a mistake behind them is
        still named.  On failure, tries each of ``mistakes`` against the student's outputs
        and names every one that matches; the case's ``tell`` is the hint only when values
        are wrong and no mistake explains them.  ``shapes`` names each output's shape in
        symbols for messages, e.g. ``{"dW": "(n_out, n_in)"}``.
        Partial credit: the share of outputs that are right (when inputs are unchanged).

        Returns
        -------
        dict
            The student's outputs by name (for further property checks).
        """
        kwargs = dict(kwargs or {})
        labels = list(args.keys())
        values = tuple(args.values())
        result = self.call(function, *values, **kwargs)
        expected_value = self.expected(function, *values, **kwargs)
        expected = unpack(returns, expected_value, function)  # the reference's outputs: always well-formed
        actual = unpack(returns, result.value, function)  # raises Fail(bad-return-type)

        problems = C.Problems()
        converted: dict[str, np.ndarray] = {}
        wrong_values = False
        good = 0
        for name, exp in expected.items():
            got = actual[name]
            before = len(problems.fails)
            value = C.conform(got, exp.shape, exp.dtype if check_dtype else None, name,
                              (shapes or {}).get(name, ""), problems)
            if value is None:
                continue
            converted[name] = value
            rtol, atol = C.tolerance_for(C.comparison_dtype(exp.dtype, got.dtype))
            with problems.check() as values_check:
                C.expect_finite(value, name)
                C.expect_close(value, exp, name, hidden=self.hidden, rtol=rtol, atol=atol)
            wrong_values |= values_check.failed
            good += len(problems.fails) == before
        with problems.check() as mutation:
            C.expect_unchanged(result.mutated, labels + list(kwargs), function)
        if mutation.failed:
            good = 0
        if problems:
            named = named_mistakes(mistakes, dict(args, **kwargs), expected, converted, actual)
            tell = [self.case.tell] if wrong_values and not named and self.case.tell else []
            raise Fail.joined(problems.fails + named, fraction=good / max(1, len(expected)), hints=tell)
        return actual
