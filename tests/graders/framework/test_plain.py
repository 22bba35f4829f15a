"""The plain-data boundary (:func:`to_plain`) and the wire codec (:func:`encode` / :func:`decode`).

``to_plain`` is the only thing that touches a value a student function returned before the
grader judges it.  It must decide by exact types alone: every student-defined method on the
objects below records its name in ``CALLED``, and each test asserts the list is still empty
after the conversion.
"""

from __future__ import annotations

import json
import math
import struct
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from graders.framework import checks as C
from graders.framework.checks import Fail
from graders.framework.plain import (
    ALLOWED_DTYPES, INT64_MAX, MAX_DEPTH, MAX_HEADER, MAX_KEY, MAX_NODES, NotPlain, Rng, WireError, decode, encode,
    is_plain, to_plain,
)

CALLED: list[str] = []


def _record(name):
    def method(self, *args, **kwargs):
        CALLED.append(name)
        raise AssertionError(f"student method {name} ran inside to_plain")

    return method


ODD_METHODS = ("__eq__", "__ne__", "__array__", "__array_ufunc__", "__array_function__", "__len__", "__iter__",
               "__reduce__", "__reduce_ex__", "__getitem__", "__float__", "__int__", "__index__", "__bool__",
               "__repr__", "__str__", "__format__", "__copy__", "__deepcopy__", "__getstate__", "__array_wrap__",
               "__array_priority__")
ODD = {name: _record(name) for name in ODD_METHODS if name != "__array_priority__"}
ODD["__hash__"] = lambda self: 1


class OddObject:
    locals().update(ODD)


class OddSubclass(np.ndarray):
    """An ndarray subclass overriding comparison, ufuncs and conversion."""

    locals().update(ODD)


class ClassProperty:
    """isinstance() would call this property: the conversion must not."""

    @property
    def __class__(self):
        CALLED.append("__class__")
        return np.ndarray


class Meta(type):
    def __getattribute__(cls, name):
        CALLED.append(f"metaclass {name}")
        return type.__getattribute__(cls, name)


class MetaObject(metaclass=Meta):
    pass


class SneakyFloat64(np.float64):
    """A NumPy scalar subclass claiming to live in numpy."""

    __module__ = "numpy"
    locals().update(ODD)


# Subclasses of the plain builtins, each with the odd methods.
IntSub, FloatSub, TupleSub, ListSub, DictSub, StrSub = (
    type(f"{base.__name__.title()}Sub", (base,), dict(ODD)) for base in (int, float, tuple, list, dict, str))


class OddKey:
    """A dict key with odd comparison; hashing happens when the dict is built, before the test."""

    def __hash__(self):
        return 7

    __eq__ = _record("key __eq__")
    __repr__ = _record("key __repr__")
    __str__ = _record("key __str__")


def odd_subclass() -> OddSubclass:
    return np.arange(6.0).reshape(2, 3).view(OddSubclass)


def structured_with_odd_title():
    return np.zeros(2, dtype=[((OddObject(), "a"), "f8")])


def object_array():
    a = np.empty(2, dtype=object)
    a[0], a[1] = OddObject(), 1.0
    return a


def recursive_list():
    x: list = []
    x.append(x)
    return x


NOT_PLAIN = {
    "ndarray subclass": odd_subclass,
    "ndarray subclass in a tuple": lambda: (np.zeros(2), odd_subclass()),
    "ndarray subclass in a dict": lambda: {"W1": odd_subclass()},
    "masked array": lambda: np.ma.masked_array(np.arange(3.0), mask=[0, 1, 0]),
    "matrix": lambda: np.asmatrix(np.eye(2)),
    "odd object": OddObject,
    "__class__ property": ClassProperty,
    "metaclass __getattribute__": MetaObject,
    "numpy scalar subclass": lambda: SneakyFloat64(1.0),
    "int subclass": lambda: IntSub(3),
    "float subclass": lambda: FloatSub(3.0),
    "tuple subclass": lambda: TupleSub((np.zeros(2),)),
    "list subclass": lambda: ListSub([1.0]),
    "dict subclass": lambda: DictSub(a=np.zeros(1)),
    "str subclass": lambda: StrSub("x"),
    "string": lambda: "the answer",
    "bytes": lambda: b"\x00\x01",
    "complex number": lambda: 1 + 2j,
    "complex array": lambda: np.ones(3, dtype=complex),
    "complex numpy scalar": lambda: np.complex128(1j),
    "object array": object_array,
    "structured array": structured_with_odd_title,
    "string array": lambda: np.array(["a", "b"]),
    "datetime array": lambda: np.array(["2024-01-01"], dtype="datetime64[D]"),
    "long double array": lambda: np.ones(2, dtype=np.longdouble),
    "huge int": lambda: 2**70,
    "huge negative int in a list": lambda: [1, -(2**64)],
    "deeply nested list": lambda: [[[[[[[[1.0]]]]]]]],
    "recursive list": recursive_list,
    "too many items": lambda: [0.0] * (MAX_NODES + 1),
    "dict with a non-str key": lambda: {OddKey(): 1.0},
    "function": lambda: (lambda: 1),
    "generator": lambda: (x for x in [np.zeros(2)]),
    "module": lambda: np,
    "exception instance": lambda: ValueError("x"),
    "type": lambda: np.ndarray,
    "set": lambda: {1.0, 2.0},
    "Rng from a student": lambda: Rng(3),
}


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.matrix
@pytest.mark.parametrize("make", NOT_PLAIN.values(), ids=NOT_PLAIN.keys())
def test_not_plain_is_rejected_without_running_student_methods(make):
    value = make()
    CALLED.clear()
    with pytest.raises(NotPlain) as info:
        to_plain(value, where="the value returned by `f`")
    assert CALLED == []
    message = str(info.value)
    assert message.startswith("the value returned by `f`")
    assert len(message) < 400
    assert CALLED == [], "formatting the message ran student code"


def test_messages_name_what_was_found():
    def msg(v):
        with pytest.raises(NotPlain) as info:
            to_plain(v, where="Y")
        return str(info.value)

    assert "subclass of numpy.ndarray" in msg(odd_subclass())
    assert "MaskedArray" in msg(np.ma.masked_array([1.0]))
    assert "OddObject" in msg(OddObject())
    assert "complex" in msg(np.ones(2, dtype=complex))
    assert "object" in msg(object_array())
    assert "structured" in msg(structured_with_odd_title())
    assert "64-bit" in msg(2**70)
    assert "nested more than" in msg([[[[[[[[1.0]]]]]]]])
    assert "Y[1]" in msg([1.0, "x"]), "the message points at the offending item"
    assert "Y['W1']" in msg({"W1": "x"})
    assert "keys must be strings" in msg({1: 2.0})


def test_metaclass_name_cannot_run_code_in_message():
    class Shouty(type):
        def __getattribute__(cls, name):
            CALLED.append(name)
            raise RuntimeError("boom")

    Obj = Shouty("Obj", (), {})
    value = Obj()
    CALLED.clear()
    with pytest.raises(NotPlain, match="Obj"):
        to_plain(value)
    assert CALLED == []


PLAIN = {
    "float64 array": np.arange(6.0).reshape(2, 3),
    "float32 array": np.ones(3, dtype=np.float32),
    "float16 array": np.ones(2, dtype=np.float16),
    "int and uint arrays": (np.arange(3), np.arange(3, dtype=np.uint8)),
    "bool array": np.array([True, False]),
    "empty array": np.zeros((0, 3)),
    "python scalars": (1, 2.5, True, None, float("nan"), float("inf")),
    "int64 bounds": [INT64_MAX, -INT64_MAX - 1],
    "nested containers": {"W1": [np.zeros(2), (1.0, {"b": np.ones(1)})]},
    "empty containers": ((), [], {}),
    "max depth": [[[[[[1.0]]]]]],
}


@pytest.mark.parametrize("value", PLAIN.values(), ids=PLAIN.keys())
def test_plain_values_round_trip_unchanged(value):
    out = to_plain(value)
    assert is_plain(out)
    assert_same(out, value)


def test_numpy_scalars_become_0d_arrays_keeping_their_dtype():
    for scalar in (np.float64(1.5), np.float32(2.0), np.int32(-3), np.uint8(7), np.bool_(True), np.longlong(4)):
        out = to_plain(scalar)
        assert type(out) is np.ndarray and out.shape == () and out.dtype == scalar.dtype
        assert out == scalar


def test_arrays_are_copied_native_and_contiguous():
    big_endian = np.arange(4.0).astype(">f8")
    out = to_plain(big_endian)
    assert out.dtype == np.dtype("<f8") and out.dtype.str in ALLOWED_DTYPES
    np.testing.assert_array_equal(out, [0, 1, 2, 3])

    strided = np.arange(12.0).reshape(3, 4).T
    out = to_plain(strided)
    assert out.flags.c_contiguous and not np.shares_memory(out, strided)
    strided[0, 0] = 99
    assert out[0, 0] == 0, "a later change to the student's array must not reach the grader"

    with_meta = np.zeros(2, dtype=np.dtype("f8", metadata={"student": OddObject()}))
    assert to_plain(with_meta).dtype.metadata is None


def test_rng_only_where_the_grader_allows_it():
    assert to_plain((Rng(5), 1), allow_rng=True) == (Rng(5), 1)
    with pytest.raises(NotPlain):
        to_plain(Rng(5))


# --------------------------------------------------------------------------- conversion for checks


def test_lists_and_numbers_are_converted_where_the_contract_allows():
    np.testing.assert_array_equal(C.as_array([[1, 2], [3, 4]], "Y"), np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert C.as_array([[1, 2]], "Y").dtype == np.float64
    assert C.as_array(3, "Y").shape == ()
    assert C.as_number(np.array([2.5]), "loss") == 2.5
    assert C.as_number(2, "loss") == 2.0
    assert C.as_tuple([1, 2, 3], ("a", "b", "c"), "f") == (1, 2, 3)


@pytest.mark.parametrize("value, words", [
    ([[1.0, 2.0], [3.0]], "not a rectangular list"),
    ([1.0, None], "not a rectangular list"),
    (None, "got None"),
    ({"Y": 1.0}, "got a dict"),
])
def test_unconvertible_values_fail_with_bad_return_type(value, words):
    with pytest.raises(Fail) as info:
        C.as_array(value, "Y")
    assert info.value.diagnoses == ["bad-return-type"] and words in info.value.message


def test_wrong_tuple_length_fails_with_bad_return_type():
    with pytest.raises(Fail) as info:
        C.as_tuple((np.zeros(1), np.zeros(1)), ("dX", "dW", "db"), "dense_backward")
    assert info.value.diagnoses == ["bad-return-type"]
    assert "tuple of 3 items (dX, dW, db)" in info.value.message and "length 2" in info.value.message
    with pytest.raises(Fail, match="returned None"):
        C.as_tuple(None, ("dX", "dW", "db"), "dense_backward")
    with pytest.raises(Fail, match="single number"):
        C.as_number(np.zeros(3), "loss")


# --------------------------------------------------------------------------- the wire codec


def assert_same(a, b):
    assert type(a) is type(b), (type(a), type(b))
    if type(a) is np.ndarray:
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif type(a) in (tuple, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif type(a) is dict:
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif type(a) is float and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


arrays = hnp.arrays(
    dtype=st.sampled_from(sorted(ALLOWED_DTYPES)).map(np.dtype),
    shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4),
)
leaves = (arrays | st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats()
          | st.text(max_size=20) | st.integers(0, 2**62).map(Rng))
trees = st.recursive(
    leaves,
    lambda kids: (st.lists(kids, max_size=4) | st.lists(kids, max_size=4).map(tuple)
                  | st.dictionaries(st.text(max_size=8), kids, max_size=4)),
    max_leaves=20,
)


@given(trees)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_encode_decode_round_trip(value):
    data = encode(value)
    assert_same(decode(data, max_bytes=len(data)), value)


@given(trees, st.data())
@settings(max_examples=200, deadline=None)
def test_any_truncation_is_a_wire_error(value, data):
    wire = encode(value)
    cut = data.draw(st.integers(0, len(wire) - 1))
    with pytest.raises(WireError):
        decode(wire[:cut], max_bytes=len(wire))


@given(trees, st.data())
@settings(max_examples=300, deadline=None)
def test_garbled_bytes_decode_or_raise_wire_error_only(value, data):
    wire = bytearray(encode(value))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(wire) - 1))
        wire[i] = data.draw(st.integers(0, 255))
    try:
        out = decode(bytes(wire), max_bytes=len(wire))
    except WireError:
        return
    assert out is None or type(out) in (np.ndarray, bool, int, float, str, tuple, list, dict, Rng)


@given(st.binary(max_size=200))
@settings(max_examples=300, deadline=None)
def test_random_bytes_raise_wire_error_only(blob):
    try:
        decode(b"NNG1" + blob, max_bytes=1000)
    except WireError:
        pass


def message(header, data: bytes = b"") -> bytes:
    h = json.dumps(header).encode() if not isinstance(header, bytes) else header
    return b"NNG1" + struct.pack("<I", len(h)) + h + data


BAD = {
    "empty": b"",
    "wrong magic": b"XXXX" + encode(1.0)[4:],
    "header length beyond the data": b"NNG1" + struct.pack("<I", 10**6) + b"{}",
    "header not JSON": message(b"{not json"),
    "header deeply nested": message(b"[" * 100000 + b"]" * 100000),
    "header not a dict": message([1, 2]),
    "no array list": message({"t": ["n"]}),
    "negative dimension": message({"t": ["a", 0], "a": [["<f8", [-1, 2]]]}),
    "float dimension": message({"t": ["a", 0], "a": [["<f8", [2.0]]]}),
    "bool dimension": message({"t": ["a", 0], "a": [["<f8", [True]]]}),
    "too many dimensions": message({"t": ["a", 0], "a": [["<f8", [1] * 9]]}),
    "object dtype": message({"t": ["a", 0], "a": [["|O", [1]]]}, b"\0" * 8),
    "complex dtype": message({"t": ["a", 0], "a": [["<c16", [1]]]}, b"\0" * 16),
    "big-endian dtype": message({"t": ["a", 0], "a": [[">f8", [1]]]}, b"\0" * 8),
    "structured dtype": message({"t": ["a", 0], "a": [[[["x", "<f8"]], [1]]]}, b"\0" * 8),
    "huge empty array": message({"t": ["a", 0], "a": [["<f8", [0, 10**30]]]}),
    "declared bytes over the cap": message({"t": ["a", 0], "a": [["<f8", [10**6]]]}),
    "data shorter than declared": message({"t": ["a", 0], "a": [["<f8", [4]]]}, b"\0" * 24),
    "trailing bytes": message({"t": ["n"], "a": []}, b"\0"),
    "array index out of range": message({"t": ["a", 1], "a": [["<f8", [1]]]}, b"\0" * 8),
    "unknown tag": message({"t": ["x"], "a": []}),
    "int out of range": message({"t": ["i", str(2**63)], "a": []}),
    "int not a number": message({"t": ["i", "12a"], "a": []}),
    "float not a number": message({"t": ["f", "one"], "a": []}),
    "dict key not str": message({"t": ["d", [[1, ["n"]]]], "a": []}),
    "tree too deep": message({"t": json.loads('["l", [' * 20 + '["n"]' + ']]' * 20), "a": []}),
    "tree too large": message({"t": ["l", [["n"]] * (MAX_NODES * 4 + 1)], "a": []}),
}


@pytest.mark.parametrize("data", BAD.values(), ids=BAD.keys())
def test_malformed_messages_are_wire_errors(data):
    with pytest.raises(WireError):
        decode(data, max_bytes=64 * 1024)


def test_oversized_message_is_rejected_before_parsing():
    data = encode(np.zeros(1000))
    with pytest.raises(WireError, match="exceeds the cap"):
        decode(data, max_bytes=len(data) - 1)


def test_a_declared_huge_array_is_rejected_before_allocating():
    # 512 MiB declared, 8 bytes sent, and a cap that would allow the declaration.
    declared = message({"t": ["a", 0], "a": [["<f8", [2**26]]]}, b"\0" * 8)
    tracemalloc.start()
    try:
        with pytest.raises(WireError, match="does not match"):
            decode(declared, max_bytes=2**30)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20


def test_decoded_arrays_do_not_alias_immutable_input():
    wire = encode(np.arange(3.0))
    out = decode(wire, max_bytes=len(wire))
    np.testing.assert_array_equal(out, [0.0, 1.0, 2.0])
    out[0] = 5.0  # writable: graders may work on it
    assert decode(wire, max_bytes=len(wire))[0] == 0.0


def test_decoded_arrays_are_writable_views_of_a_private_receive_buffer():
    # The channel reads each message into a fresh bytearray it never reuses: no copy is needed.
    wire = bytearray(encode((np.arange(3.0), np.arange(4, dtype=np.float32))))
    first, second = decode(wire, max_bytes=len(wire))
    assert first.flags.aligned and second.flags.aligned and first.flags.writeable
    np.testing.assert_array_equal(first, [0.0, 1.0, 2.0])
    first[0] = 5.0
    np.testing.assert_array_equal(second, [0.0, 1.0, 2.0, 3.0])  # neighbours are untouched

def test_a_header_of_many_tiny_nodes_is_refused_before_it_is_parsed():
    # 80 000 empty arrays in under 1 MB: parsed, each would cost ~100 times its 12 bytes.
    header = json.dumps({"t": ["n"], "a": [["<f8", [0]]] * 80_000}, separators=(",", ":")).encode()
    assert len(header) < MAX_HEADER
    data = b"NNG1" + struct.pack("<I", len(header)) + header
    tracemalloc.start()
    try:
        with pytest.raises(WireError, match="lists"):
            decode(data, max_bytes=len(data))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * len(data)  # a copy of the header's bytes, and nothing built from them


def test_the_sender_refuses_what_the_receiver_would_refuse():
    many = {f"{i}" + "," * 60: 1.0 for i in range(MAX_NODES - 1)}  # keys full of commas: over the item count
    with pytest.raises(NotPlain, match="too large to send"):
        encode(many)


def test_a_key_longer_than_a_name_is_not_plain():
    with pytest.raises(NotPlain, match="keys are short names"):
        to_plain({"x" * (MAX_KEY + 1): 1.0})


def test_readonly_decoding_gives_arrays_nothing_can_make_writable():
    wire = encode((np.ones(3, dtype=np.bool_), np.arange(3.0), np.arange(4, dtype=np.float32)))
    arrays = decode(wire, max_bytes=len(wire), readonly=True)
    for a in arrays:  # the float64 array follows 3 bytes of bools: misaligned, so an immutable copy
        assert a.flags.aligned and not a.flags.writeable
        with pytest.raises(ValueError, match="WRITEABLE"):
            a.setflags(write=True)
        with pytest.raises(ValueError, match="read-only"):
            a[...] = 0
    np.testing.assert_array_equal(arrays[1], [0.0, 1.0, 2.0])
    with pytest.raises(TypeError, match="immutable"):
        decode(bytearray(wire), max_bytes=len(wire), readonly=True)


def test_frozen_is_a_read_only_copy():
    from graders.framework.plain import frozen

    X = np.arange(4.0)
    (Y,) = frozen((X,))
    assert not Y.flags.writeable and not np.shares_memory(X, Y) and X.flags.writeable
