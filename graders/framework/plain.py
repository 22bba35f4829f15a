"""Plain numeric data: the only values that cross the boundary to student code.

A *plain* value is one of

* a ``numpy.ndarray`` of exactly that type (no subclass) with a boolean, integer or
  floating dtype in native byte order,
* a Python ``bool``, ``int`` (within int64) or ``float`` of exactly that type, or ``None``,
* a ``tuple`` or ``list`` of plain values, or a ``dict`` with ``str`` keys and plain values.

NumPy scalars become 0-d arrays so their dtype survives.  Arguments sent *to* student
code may also hold :class:`Rng`, a seed from which the student's side builds a fresh
``numpy.random.Generator``.

:func:`to_plain` converts by exact type checks only: it never calls a method that a
student could have defined (``__eq__``, ``__array__``, ``__len__``, ``__iter__`` …), so it
is safe to run on anything a student function returned.  :func:`encode` and
:func:`decode` carry plain values (plus short strings, for protocol messages) as bytes;
:func:`decode` validates every header field against hard caps *before* allocating,
and never unpickles, imports or evaluates anything.

This module imports only the standard library and NumPy: the sandbox runs it too.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

#: dtypes that may cross the boundary (NumPy ``dtype.str`` spellings, little-endian).
ALLOWED_DTYPES = frozenset(
    {"<f8", "<f4", "<f2", "<i8", "<i4", "<i2", "|i1", "<u8", "<u4", "<u2", "|u1", "|b1"}
)
MAX_DEPTH = 6
MAX_NODES = 4096
MAX_NDIM = 8
MAX_STRING = 64 * 1024
#: Longest dict key in a plain value (the contract's keys are names like ``"W1"``).
MAX_KEY = 200
#: A message's JSON header: far above any honest one (4096 nodes with keys and texts), and
#: small enough that parsing it costs the trusted side milliseconds.
MAX_HEADER = 1024 * 1024
#: JSON containers (``[`` and ``{``) and items (``,``) a header may hold, counted on its bytes
#: *before* it is parsed: parsing builds one Python object per item, and a header of many tiny
#: nodes (a few bytes each) would cost far more memory and time than its size suggests.
#: Brackets and commas inside strings are counted too, which only over-counts.
MAX_CONTAINERS = 8 * MAX_NODES
MAX_ITEMS = 32 * MAX_NODES
#: Arrays a message may describe (a plain value has at most ``MAX_NODES`` nodes).
MAX_ARRAYS = MAX_NODES
MAGIC = b"NNG1"
#: Largest byte extent of an array's dimensions, empty axes counted as 1.
MAX_EXTENT = 2**40
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class NotPlain(ValueError):
    """A value that is not plain data.  ``str(exc)`` says what was found and where."""


class WireError(ValueError):
    """Bytes that are not a valid encoding (garbled, truncated, or over a cap)."""


@dataclass(frozen=True)
class Rng:
    """A random generator sent to student code as its seed.

    The receiving side calls :meth:`make` to build ``numpy.random.default_rng(seed)``,
    so the trusted side can reproduce exactly the stream the student's code drew from.
    """

    seed: int

    def make(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)


#: NumPy's own scalar types (np.float64, np.int32, np.bool_ ...), matched by exact type.
_NUMPY_SCALARS = frozenset(t for t in np.sctypeDict.values() if type(t) is type and issubclass(t, np.generic))
# The C-level getters of ``type``: reading a class's name through them never consults a
# metaclass a student defined (``cls.__qualname__`` would run its ``__getattribute__``).
_TYPE_QUALNAME = type.__dict__["__qualname__"].__get__
_TYPE_MODULE = type.__dict__["__module__"].__get__


def _describe(value: Any) -> str:
    # type(value) cannot be faked by a student class; its names are read as data, capped.
    cls = type(value)
    qualname = _TYPE_QUALNAME(cls)
    module = _TYPE_MODULE(cls)
    if type(module) is not str:
        module = "?"
    name = f"{module}.{qualname}" if module != "builtins" else qualname
    return name[:120]


def _plain_array(value: np.ndarray, where: str) -> np.ndarray:
    dtype = value.dtype
    if dtype.fields is not None or dtype.subdtype is not None:
        # str(dtype) would print the field titles, which may be student objects.
        raise NotPlain(f"{where} is a structured array; only numeric arrays are accepted")
    if dtype.kind not in "biuf":
        raise NotPlain(f"{where} is an array of dtype {str(dtype)[:60]}; only numeric arrays are accepted")
    native = np.dtype(dtype.newbyteorder("=").str)  # also drops dtype metadata (arbitrary objects)
    if native.str not in ALLOWED_DTYPES:
        raise NotPlain(f"{where} has dtype {native.str}; only standard float, int and bool dtypes are accepted")
    out = np.empty(value.shape, dtype=native)  # a fresh C-order array with NumPy's own dtype
    out[...] = value
    return out


def _already_plain(a: np.ndarray) -> bool:
    d = a.dtype
    return d.str in ALLOWED_DTYPES and d.metadata is None and d.fields is None and a.flags.c_contiguous


def to_plain(value: Any, *, allow_rng: bool = False, where: str = "the value", copy: bool = True) -> Any:
    """Return a plain copy of ``value``, or raise :class:`NotPlain`.

    Parameters
    ----------
    value : object
        Anything, including objects defined by a student.
    allow_rng : bool
        Accept :class:`Rng` leaves (only for arguments built by the grader).
    where : str
        How to name the value in an error message, e.g. ``"dense_backward's result"``.
    copy : bool
        With False, arrays that are already plain (exact ndarray, allowed native dtype
        without metadata, C-contiguous) are passed through uncopied.  Only for values
        the trusted side built itself and is about to encode, never for student values.
    """
    nodes = [0]

    def walk(v: Any, depth: int, at: str) -> Any:
        nodes[0] += 1
        if nodes[0] > MAX_NODES:
            raise NotPlain(f"{where} has more than {MAX_NODES} items; return numpy arrays, not long lists")
        if depth > MAX_DEPTH:
            raise NotPlain(f"{where} is nested more than {MAX_DEPTH} levels deep")
        t = type(v)
        if t is np.ndarray:
            if not copy and _already_plain(v):
                return v
            return _plain_array(v, at)
        if t is bool or v is None:
            return v
        if t is int:
            if not INT64_MIN <= v <= INT64_MAX:
                raise NotPlain(f"{at} is an integer outside the 64-bit range")
            return v
        if t is float:
            return v
        if t in _NUMPY_SCALARS:
            # NumPy's own scalar types (np.float64, np.int32, np.bool_ ...): keep the dtype.
            return _plain_array(np.asarray(v), at)
        if t is tuple or t is list:
            return t(walk(item, depth + 1, f"{at}[{i}]") for i, item in enumerate(v))
        if t is dict:
            out = {}
            for key, item in v.items():
                if type(key) is not str:
                    raise NotPlain(f"{at} has a key of type {_describe(key)}; keys must be strings")
                if len(key) > MAX_KEY:
                    raise NotPlain(f"{at} has a key of {len(key)} characters; keys are short names "
                                   f"(at most {MAX_KEY} characters)")
                out[key] = walk(item, depth + 1, f"{at}[{key[:40]!r}]")
            return out
        if t is Rng and allow_rng:
            return v
        # issubclass on the exact type, never isinstance: isinstance consults a
        # student-defined ``__class__`` property.
        if issubclass(t, np.ndarray):
            raise NotPlain(f"{at} is a {_describe(v)}, a subclass of numpy.ndarray; return a plain numpy.ndarray")
        raise NotPlain(f"{at} is a {_describe(v)}; expected a numpy array, a number, or a tuple/list/dict of those")

    return walk(value, 0, where)


# --------------------------------------------------------------------------- encoding


def _header_problem(text: bytes) -> str:
    """Why a JSON header is over the caps that bound the work of parsing it ('' if it is not)."""
    if len(text) > MAX_HEADER:
        return f"header of {len(text)} bytes is longer than {MAX_HEADER}"
    if text.count(b"[") + text.count(b"{") > MAX_CONTAINERS or text.count(b",") > MAX_ITEMS:
        return f"header holds more than {MAX_CONTAINERS} lists or {MAX_ITEMS} items"
    return ""


def encode_parts(value: Any) -> list[bytes | memoryview]:
    """Encode a plain value as a list of buffers, without copying array data.

    Layout: ``b"NNG1"``, a little-endian ``uint32`` header length, a JSON header
    describing the tree (arrays by index, with dtype and shape), then the raw C-order
    bytes of each array in order.  Strings are allowed too, for protocol messages.
    """
    arrays: list[np.ndarray] = []

    def node(v: Any) -> Any:
        t = type(v)
        if t is np.ndarray:
            arrays.append(v)
            return ["a", len(arrays) - 1]
        if v is None:
            return ["n"]
        if t is bool:
            return ["b", v]
        if t is int:
            return ["i", str(v)]
        if t is float:
            return ["f", repr(v)]
        if t is str:
            if len(v) > MAX_STRING:  # never truncate silently: callers send long text as bytes
                raise NotPlain(f"a string of {len(v)} characters is longer than {MAX_STRING}")
            return ["s", v]
        if t is tuple:
            return ["t", [node(x) for x in v]]
        if t is list:
            return ["l", [node(x) for x in v]]
        if t is dict:
            return ["d", [[k, node(x)] for k, x in v.items()]]
        if t is Rng:
            return ["r", str(v.seed)]
        raise NotPlain(f"cannot encode a {_describe(v)}")

    tree = node(value)
    meta = [[a.dtype.str, list(a.shape)] for a in arrays]
    header = json.dumps({"t": tree, "a": meta}, separators=(",", ":")).encode()
    header += b" " * (-(8 + len(header)) % 8)  # JSON allows trailing spaces: array data starts 8-aligned
    problem = _header_problem(header)
    if problem:  # the receiver would refuse it: say so here, where the value is known
        raise NotPlain(f"the value is too large to send: its {problem}")
    parts: list[bytes | memoryview] = [MAGIC + struct.pack("<I", len(header)) + header]
    for a in arrays:
        if a.size:
            parts.append(memoryview(np.ascontiguousarray(a).reshape(-1).view(np.uint8)))
    return parts


def encode(value: Any) -> bytes:
    """:func:`encode_parts` joined into one ``bytes`` object."""
    return b"".join(encode_parts(value))


def decode(data: bytes | bytearray | memoryview, *, max_bytes: int, readonly: bool = False) -> Any:
    """Decode bytes made by :func:`encode`, validating everything before allocating.

    The work is bounded by the message's size and by counts taken on the header's bytes
    before it is parsed (``MAX_HEADER``, ``MAX_CONTAINERS``, ``MAX_ITEMS``, ``MAX_ARRAYS``),
    whatever the sender put in it.

    Parameters
    ----------
    data : bytes, bytearray or memoryview
        One message.  Given a writable buffer (a ``bytearray`` the caller owns and does
        not reuse), arrays are returned as writable views into it instead of copies.
    max_bytes : int
        The largest message accepted.
    readonly : bool
        Return every array read-only, over memory nothing can make writable again:
        ``data`` must then be ``bytes``, and arrays are views into it (NumPy refuses
        ``setflags(write=True)`` on those).  For the arguments a student's function gets.

    Raises
    ------
    WireError
        If the bytes are garbled, truncated, or declare more than ``max_bytes`` of data.
    """
    if readonly and type(data) is not bytes:
        raise TypeError("decode(readonly=True) needs an immutable bytes object")
    view = memoryview(data)
    if len(view) > max_bytes:
        raise WireError(f"message of {len(view)} bytes exceeds the cap of {max_bytes}")
    if len(view) < 8 or bytes(view[:4]) != MAGIC:
        raise WireError("not an nngrade message")
    (hlen,) = struct.unpack("<I", view[4:8])
    if hlen > MAX_HEADER or 8 + hlen > len(view):
        raise WireError("header length out of range")
    text = bytes(view[8 : 8 + hlen])
    problem = _header_problem(text)
    if problem:
        raise WireError(problem)
    try:
        header = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise WireError(f"header is not JSON: {type(exc).__name__}") from None
    del text
    if type(header) is not dict or type(header.get("a")) is not list:
        raise WireError("header has the wrong layout")
    if len(header["a"]) > MAX_ARRAYS:
        raise WireError(f"message describes more than {MAX_ARRAYS} arrays")

    specs = []
    total = 0
    for spec in header["a"]:
        if type(spec) is not list or len(spec) != 2:
            raise WireError("bad array description")
        dstr, shape = spec
        if type(dstr) is not str or dstr not in ALLOWED_DTYPES:
            raise WireError(f"dtype {str(dstr)[:40]!r} is not accepted")
        if type(shape) is not list or len(shape) > MAX_NDIM:
            raise WireError("bad array shape")
        if any(type(d) is not int or d < 0 for d in shape):
            raise WireError("array dimensions must be non-negative integers")
        dtype = np.dtype(dstr)
        if math.prod(max(d, 1) for d in shape) * dtype.itemsize > MAX_EXTENT:
            # An empty array's other dimensions are unbounded by its size; NumPy cannot make huge ones.
            raise WireError(f"array dimensions {str(shape)[:80]} are too large")
        nbytes = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
        total += nbytes
        if total > max_bytes:
            raise WireError(f"arrays declare more than {max_bytes} bytes")
        specs.append((dtype, tuple(shape), nbytes))
    if 8 + hlen + total != len(view):
        raise WireError("array data does not match the header")

    arrays = []
    offset = 8 + hlen
    for dtype, shape, nbytes in specs:
        arr = np.frombuffer(view[offset : offset + nbytes], dtype=dtype).reshape(shape)
        if readonly:
            if not arr.flags.aligned:  # after an array of odd size: an immutable aligned copy
                arr = np.frombuffer(bytes(view[offset : offset + nbytes]), dtype=dtype).reshape(shape)
        elif not (arr.flags.writeable and arr.flags.aligned):
            arr = arr.copy()  # else: a view into the caller's (writable, private) buffer, no copy
        arrays.append(arr)
        offset += nbytes
    del view

    nodes = [0]

    def build(n: Any, depth: int) -> Any:
        nodes[0] += 1
        if nodes[0] > MAX_NODES * 4 or depth > MAX_DEPTH + 4:
            raise WireError("message tree too large or too deep")
        if type(n) is not list or not n or type(n[0]) is not str:
            raise WireError("bad tree node")
        tag = n[0]
        arg = n[1] if len(n) > 1 else None
        if tag == "a" and type(arg) is int and 0 <= arg < len(arrays):
            return arrays[arg]
        if tag == "n":
            return None
        if tag == "b" and type(arg) is bool:
            return arg
        if tag == "i" and type(arg) is str and len(arg) <= 21:
            try:
                v = int(arg)
            except ValueError:
                raise WireError("bad integer") from None
            if not INT64_MIN <= v <= INT64_MAX:
                raise WireError("integer out of range")
            return v
        if tag == "f" and type(arg) is str and len(arg) <= 32:
            try:
                return float(arg)
            except ValueError:
                raise WireError("bad float") from None
        if tag == "s" and type(arg) is str and len(arg) <= MAX_STRING:
            return arg
        if tag in ("t", "l") and type(arg) is list:
            items = [build(x, depth + 1) for x in arg]
            return tuple(items) if tag == "t" else items
        if tag == "d" and type(arg) is list:
            out = {}
            for pair in arg:
                if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                    raise WireError("bad dict entry")
                out[pair[0][:MAX_STRING]] = build(pair[1], depth + 1)
            return out
        if tag == "r" and type(arg) is str and len(arg) <= 40:
            try:
                return Rng(int(arg))
            except ValueError:
                raise WireError("bad rng seed") from None
        raise WireError(f"bad tree node {tag[:10]!r}")

    return build(header.get("t"), 0)


def frozen(value: Any) -> Any:
    """A copy of a plain value whose arrays are read-only, and cannot be made writable again.

    What a student's function gets as arguments in-process, as it gets them in the sandbox
    (:func:`decode` with ``readonly``): one copy of each array, allocated by NumPy (the same
    memory alignment, so the same BLAS results, as any copy), exposed through a read-only
    buffer, which makes NumPy refuse ``setflags(write=True)``.
    """
    t = type(value)
    if t is np.ndarray:
        copy = np.array(value, copy=True, order="C")
        return np.frombuffer(memoryview(copy).toreadonly(), dtype=copy.dtype).reshape(copy.shape)
    if t is tuple or t is list:
        return t(frozen(v) for v in value)
    if t is dict:
        return {k: frozen(v) for k, v in value.items()}
    return value


def is_plain(value: Any) -> bool:
    """True if a decoded tree holds only plain data (no strings, no :class:`Rng`)."""
    t = type(value)
    if t is np.ndarray:
        return value.dtype.str in ALLOWED_DTYPES
    if value is None or t in (bool, int, float):
        return True
    if t in (tuple, list):
        return all(is_plain(v) for v in value)
    if t is dict:
        return all(type(k) is str and is_plain(v) for k, v in value.items())
    return False
