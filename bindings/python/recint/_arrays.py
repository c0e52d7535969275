"""Moving arrays between Python and C, with numpy when it is importable.

Inputs: a numpy array whose dtype, byte order and contiguity already match is
passed to C without a copy; anything else is converted once.  Without numpy,
array.array and 1-D memoryviews of the right item type are passed without a copy
(read-only buffers are copied once); lists, tuples and other iterables go through
array.array, which also checks every value fits the C type.
Outputs: numpy arrays with numpy, plain lists without.
"""

import array
import ctypes

from . import _errors

try:
    import numpy as np
except ImportError:  # the binding works without numpy
    np = None

HAVE_NUMPY = np is not None

# ctype -> (array.array typecode, kind, itemsize, numpy dtype name, lo, hi)
_SPEC = {
    ctypes.c_int64: ("q", "i", 8, "int64", -(1 << 63), (1 << 63) - 1),
    ctypes.c_uint64: ("Q", "u", 8, "uint64", 0, (1 << 64) - 1),
    ctypes.c_uint32: ("I", "u", 4, "uint32", 0, (1 << 32) - 1),
    ctypes.c_float: ("f", "f", 4, "float32", None, None),
    ctypes.c_double: ("d", "f", 8, "float64", None, None),
}
assert array.array("q").itemsize == 8 and array.array("I").itemsize == 4

_KIND_OF_CODE = {c: "i" for c in "bhilq"}
_KIND_OF_CODE.update({c: "u" for c in "BHILQ"})
_KIND_OF_CODE.update({"f": "f", "d": "f"})


class _Converted:
    """A C view of an input: `ptr` for the call, `keep` holds the memory alive."""

    __slots__ = ("ptr", "keep", "n")

    def __init__(self, ptr, keep, n):
        self.ptr, self.keep, self.n = ptr, keep, n


def _range_error(what, value, spec):
    return _errors.RangeError("%s: value %r does not fit %s [%d, %d]"
                              % (what, value, spec[3], spec[4], spec[5]), _errors.RangeError.code)


def _kind_ok(src_kind, spec):
    if spec[1] == "f":
        return src_kind in "iuf"
    return src_kind in "iu"


def _from_numpy(values, ctype, what):
    spec = _SPEC[ctype]
    a = np.asarray(values)
    if a.dtype.kind == "O" and a.ndim == 1:
        # e.g. Python ints beyond int64: the per-value checks name the culprit
        return _from_python(a.tolist(), ctype, what)
    if a.ndim == 0:
        raise TypeError("%s: expected a 1-D sequence, got a scalar" % what)
    if a.ndim != 1:
        raise ValueError("%s: expected a 1-D array, got shape %s" % (what, a.shape))
    if a.size and not _kind_ok(a.dtype.kind, spec):
        raise TypeError("%s: expected %s values, got dtype %s"
                        % (what, "integer" if spec[1] != "f" else "numeric", a.dtype))
    want = np.dtype(spec[3])
    if a.dtype != want:
        if a.size and spec[1] != "f":
            lo, hi = a.min(), a.max()
            if int(lo) < spec[4]:
                raise _range_error(what, int(lo), spec)
            if int(hi) > spec[5]:
                raise _range_error(what, int(hi), spec)
        a = a.astype(want)
    a = np.ascontiguousarray(a)  # no copy when already contiguous
    return _Converted(a.ctypes.data_as(ctypes.POINTER(ctype)), a, int(a.shape[0]))


def _format_matches(fmt, itemsize, spec):
    fmt = fmt.lstrip("@=<")
    return len(fmt) == 1 and _KIND_OF_CODE.get(fmt) == spec[1] and itemsize == spec[2]


def _from_buffer(buf, ctype, n):
    carr_type = ctype * n
    if n == 0:
        return carr_type()
    try:
        return carr_type.from_buffer(buf)
    except TypeError:  # read-only buffer
        return carr_type.from_buffer_copy(buf)


def _from_python(values, ctype, what):
    spec = _SPEC[ctype]
    if isinstance(values, array.array) and _format_matches(values.typecode, values.itemsize, spec):
        carr = _from_buffer(values, ctype, len(values))
        return _Converted(ctypes.cast(carr, ctypes.POINTER(ctype)), (values, carr), len(values))
    if isinstance(values, (bytes, bytearray, memoryview)):
        mv = memoryview(values)
        if mv.ndim != 1:
            raise ValueError("%s: expected a 1-D buffer, got %d dimensions" % (what, mv.ndim))
        if mv.c_contiguous and _format_matches(mv.format, mv.itemsize, spec):
            carr = _from_buffer(mv, ctype, len(mv))
            return _Converted(ctypes.cast(carr, ctypes.POINTER(ctype)), (mv, carr), len(mv))
        values = mv.tolist()
    elif isinstance(values, (str, int, float)):
        raise TypeError("%s: expected a 1-D sequence, got %s" % (what, type(values).__name__))
    values = list(values)
    if spec[1] != "f":
        for v in values:
            if isinstance(v, float) or not hasattr(v, "__index__"):
                raise TypeError("%s: expected integer values, got %r" % (what, v))
    try:
        arr = array.array(spec[0], values)
    except OverflowError:
        bad = next(v for v in values if not spec[4] <= int(v) <= spec[5])
        raise _range_error(what, int(bad), spec) from None
    carr = _from_buffer(arr, ctype, len(arr))
    return _Converted(ctypes.cast(carr, ctypes.POINTER(ctype)), (arr, carr), len(arr))


def materialize(values):
    """values itself when it can be read twice, else a list of it (generators)."""
    if isinstance(values, (list, tuple, range, array.array, memoryview, bytes, bytearray)):
        return values
    if np is not None and isinstance(values, np.ndarray):
        return values
    if isinstance(values, (str, int, float)) or values is None:
        return values
    return list(values)


def to_c(values, ctype, what="array"):
    """C view of a 1-D sequence as `ctype` elements (see the module notes)."""
    values = materialize(values)
    if np is not None:
        return _from_numpy(values, ctype, what)
    return _from_python(values, ctype, what)


def is_numpy_array(values):
    return np is not None and isinstance(values, np.ndarray)


# ---------------------------------------------------------------------------
# String ids

def encode_id(value, what="id"):
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogateescape")
    elif not isinstance(value, bytes):
        raise TypeError("%s: expected str or bytes, got %r" % (what, value))
    if b"\0" in value:
        raise ValueError("%s: %r contains a NUL character" % (what, value))
    return value


def decode_id(raw):
    return raw.decode("utf-8", "surrogateescape")


def _is_stringish(v):
    return isinstance(v, (str, bytes))


def id_kind(values, what):
    """'str' when every id is a string, 'int' otherwise (mixtures are refused)."""
    if np is not None and isinstance(values, np.ndarray):
        if values.dtype.kind in "US":
            return "str"
        if values.dtype.kind != "O":
            return "int"
        values = values.tolist()
    if isinstance(values, (array.array, memoryview, range)):
        return "int"
    values = values if isinstance(values, (list, tuple)) else list(values)
    n_str = sum(1 for v in values if _is_stringish(v))
    if n_str == 0:
        return "int"
    if n_str != len(values):
        raise TypeError("%s: ids must be all integers or all strings, not a mixture" % what)
    return "str"


def to_c_strings(values, what="ids"):
    if np is not None and isinstance(values, np.ndarray):
        values = values.tolist()
    encoded = [encode_id(v, what) for v in values]
    carr = (ctypes.c_char_p * len(encoded))(*encoded)
    return _Converted(carr, (encoded, carr), len(encoded))


# ---------------------------------------------------------------------------
# Outputs

def alloc(ctype, n):
    """A zeroed output buffer of n elements: (buffer, pointer for C)."""
    if np is not None:
        buf = np.zeros(n, dtype=_SPEC[ctype][3])
        return buf, buf.ctypes.data_as(ctypes.POINTER(ctype))
    buf = (ctype * n)()
    return buf, ctypes.cast(buf, ctypes.POINTER(ctype))


def finish(buf, n, rows=None, cols=None):
    """The first n values of an alloc() buffer: numpy array or list; with rows and
    cols, a rows x cols matrix (2-D numpy array or list of lists)."""
    if np is not None:
        out = buf[:n]
        return out.reshape(rows, cols) if rows is not None else out
    flat = buf[:n]
    if rows is None:
        return flat
    return [flat[r * cols:(r + 1) * cols] for r in range(rows)]


def view(ptr, n, ctype, anchor, copy):
    """The n elements at C pointer ptr as a numpy array (a read-only view that keeps
    `anchor` alive when copy is false) or a list (always a copy without numpy)."""
    spec = _SPEC[ctype]
    if not ptr:
        # An empty dataset may have no arrays at all; a lone indptr entry is 0.
        if n > 1:
            raise _errors.StateError("the library returned no array for %d values" % n,
                                     _errors.StateError.code)
        return np.zeros(n, dtype=spec[3]) if np is not None else [0] * n
    if np is None:
        return ptr[:n]
    if n == 0:
        return np.zeros(0, dtype=spec[3])
    carr = (ctype * n).from_address(ctypes.cast(ptr, ctypes.c_void_p).value)
    if copy:
        return np.frombuffer(carr, dtype=spec[3]).copy()
    carr._recint_anchor = anchor  # the array's base chain keeps the C memory's owner
    out = np.frombuffer(carr, dtype=spec[3])
    out.flags.writeable = False
    return out
