"""Where expected values come from.

* :class:`ReferenceOracle` calls the reference solution (trusted side only; hidden cases,
  and visible ones where the references are installed).
* :class:`StoredOracle` reads the expected outputs of visible cases stored with the
  exercise (``exercises/<id>/visible.npz``), so a student's self-check needs no reference.
* :class:`RecordingOracle` is a reference oracle that remembers what it answered;
  ``nngrade exercises regen`` uses it to write ``visible.npz``.

Stored entries are keyed by case and call number and carry a digest of the arguments,
so stale files (a changed case, a changed generator) are detected instead of misgrading.
Which oracle a case gets is decided in one place, :func:`case.case_sources`.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from . import checks as C
from .case import StaleExpectations, digest
from .execution import materialize
from .plain import decode, encode, to_plain

MAX_STORED = 64 * 1024 * 1024


def load_reference(exercise: str) -> ModuleType | None:
    """The reference module of an exercise, or None where references are not installed."""
    try:
        return importlib.import_module(f"reference.{exercise}")
    except ModuleNotFoundError as exc:
        if exc.name in ("reference", f"reference.{exercise}"):
            return None
        raise


class ReferenceOracle:
    def __init__(self, module: ModuleType):
        self.module = module

    def expected(self, key: str, function: str, args: tuple, kwargs: dict[str, Any]) -> Any:
        fn = getattr(self.module, function)
        return to_plain(fn(*materialize(args, copy=True), **materialize(kwargs, copy=True)),
                        where=f"reference {function}")


class RecordingOracle(ReferenceOracle):
    def __init__(self, module: ModuleType):
        super().__init__(module)
        self.entries: dict[str, tuple[str, Any]] = {}

    def expected(self, key: str, function: str, args: tuple, kwargs: dict[str, Any]) -> Any:
        value = super().expected(key, function, args, kwargs)
        self.entries[key] = (digest(args, kwargs), value)
        return value

    def save(self, path: Path) -> None:
        keys = sorted(self.entries)
        arrays = {
            "keys": np.array(keys, dtype=str),
            "digests": np.array([self.entries[k][0] for k in keys], dtype=str),
        }
        for i, k in enumerate(keys):
            arrays[f"v{i}"] = np.frombuffer(encode(self.entries[k][1]), dtype=np.uint8)
        np.savez_compressed(path, **arrays)


class StoredOracle:
    def __init__(self, path: Path):
        self.path = path
        self._index: dict[str, tuple[str, str]] | None = None
        self._data: Any = None

    def _load(self) -> None:
        if self._index is None:
            if not self.path.exists():
                raise StaleExpectations(f"{self.path} is missing: run `nngrade exercises regen`")
            self._data = np.load(self.path, allow_pickle=False)
            keys = self._data["keys"]
            digests = self._data["digests"]
            self._index = {str(k): (str(d), f"v{i}") for i, (k, d) in enumerate(zip(keys, digests))}

    def expected(self, key: str, function: str, args: tuple, kwargs: dict[str, Any]) -> Any:
        self._load()
        assert self._index is not None
        if key not in self._index:
            raise StaleExpectations(f"{self.path.name} has no entry {key!r}: run `nngrade exercises regen`")
        want, name = self._index[key]
        if digest(args, kwargs) != want:
            raise StaleExpectations(f"{self.path.name}: the inputs of {key!r} changed: run `nngrade exercises regen`")
        return decode(self._data[name].tobytes(), max_bytes=MAX_STORED)

    def entries(self) -> dict[str, tuple[str, Any]]:
        """Every stored entry: ``{key: (digest of the arguments, expected value)}``."""
        self._load()
        assert self._index is not None
        return {key: (want, decode(self._data[name].tobytes(), max_bytes=MAX_STORED))
                for key, (want, name) in self._index.items()}


def value_differences(fresh: Any, stored: Any, where: str) -> list[str]:
    """Where two expected values differ beyond the graders' own tolerances (empty: they agree).

    Floating-point arrays are compared with :func:`checks.is_close` at their dtype's
    tolerance, which another BLAS build's summation order stays within; everything else
    (shapes, dtypes, integers, structure) must be equal.
    """
    if type(fresh) is not type(stored):
        return [f"{where}: {type(stored).__name__} stored, {type(fresh).__name__} now"]
    if type(fresh) is np.ndarray:
        if fresh.shape != stored.shape or fresh.dtype != stored.dtype:
            return [f"{where}: {stored.dtype}{stored.shape} stored, {fresh.dtype}{fresh.shape} now"]
        same = C.is_close(fresh, stored) if fresh.dtype.kind == "f" else np.array_equal(fresh, stored)
        return [] if same else [f"{where}: values differ beyond the {fresh.dtype} tolerance"]
    if type(fresh) in (tuple, list):
        if len(fresh) != len(stored):
            return [f"{where}: {len(stored)} items stored, {len(fresh)} now"]
        return [d for i, (a, b) in enumerate(zip(fresh, stored)) for d in value_differences(a, b, f"{where}[{i}]")]
    if type(fresh) is dict:
        if fresh.keys() != stored.keys():
            return [f"{where}: keys {sorted(stored)} stored, {sorted(fresh)} now"]
        return [d for k in fresh for d in value_differences(fresh[k], stored[k], f"{where}[{k!r}]")]
    if type(fresh) is float:
        same = C.is_close(np.asarray(fresh), np.asarray(stored))
        return [] if same else [f"{where}: {stored!r} stored, {fresh!r} now"]
    return [] if fresh == stored else [f"{where}: {stored!r} stored, {fresh!r} now"]
