"""Where expected values come from.

* :class:`ReferenceOracle` calls the reference solution (trusted side only; hidden cases,
  and visible ones where the references are installed).
* :class:`StoredOracle` reads the expected outputs of visible cases stored with the
  exercise (``exercises/<id>/visible.npz``), so a student's self-check needs no reference.
* :class:`RecordingOracle` is a reference oracle that remembers what it answered;
  ``nngrade exercises regen`` uses it to write ``visible.npz``.

Stored entries are keyed by case and call number and carry a digest of the arguments,
so stale files (a changed case, a changed generator) are detected instead of misgrading.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

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
