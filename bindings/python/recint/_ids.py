"""External id <-> dense index lookups through a handle's recint_idmap view.

The map pointer is fetched from the owning handle on every call (the map of a
model is rebuilt by a partial fit), so a lookup on a closed dataset or model
raises StateError instead of reading freed memory; the pointer keeps the handle
alive while it is referenced.
"""

import ctypes
import operator

from . import _arrays, _errors
from ._lib import IDS_INT, IDS_STRING, lib

_U32_MAX = (1 << 32) - 1


def scalar_u32(value, what):
    """value as a C uint32, refusing what ctypes would silently wrap."""
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError("%s must be an integer, got %r" % (what, value)) from None
    if not 0 <= v <= _U32_MAX:
        raise _errors.RangeError("%s %d is outside [0, %d]" % (what, v, _U32_MAX),
                                 _errors.RangeError.code)
    return v


def scalar_u64(value, what):
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError("%s must be an integer, got %r" % (what, value)) from None
    if not 0 <= v < (1 << 64):
        raise _errors.RangeError("%s %d is outside [0, 2^64)" % (what, v), _errors.RangeError.code)
    return v


class IdLookup:
    """Lookups in the users or items map of `owner` (a Dataset or Model)."""

    def __init__(self, owner, getter, noun):
        self._owner = owner
        self._getter = getter
        self._noun = noun

    def _map(self):
        p = self._owner._p
        m = self._getter(p)
        m._recint_owner = p  # the map is a view owned by the handle
        return m

    def __len__(self):
        return lib.recint_idmap_size(self._map())

    @property
    def kind(self):
        """'int', 'str' or None (no ids yet)."""
        return {IDS_INT: "int", IDS_STRING: "str"}.get(lib.recint_idmap_kind(self._map()))

    def index(self, ext_id):
        """Dense index of an external id; NotFoundError (a KeyError) when absent."""
        out = ctypes.c_uint32()
        m = self._map()
        if isinstance(ext_id, (str, bytes)):
            rc = lib.recint_idmap_index_str(m, _arrays.encode_id(ext_id, self._noun + " id"),
                                            ctypes.byref(out))
        else:
            try:
                v = operator.index(ext_id)
            except TypeError:
                raise TypeError("%s id must be int or str, got %r" % (self._noun, ext_id)) from None
            if not -(1 << 63) <= v < (1 << 63):
                raise _errors.NotFoundError("%s id %d does not fit int64" % (self._noun, v),
                                            _errors.NotFoundError.code)
            rc = lib.recint_idmap_index(m, v, ctypes.byref(out))
        _errors.check(rc)
        return out.value

    def id(self, index):
        """External id (int or str) of a dense index; RangeError (an IndexError)
        when index is outside the catalogue."""
        index = scalar_u32(index, self._noun + " index")
        m = self._map()
        if lib.recint_idmap_kind(m) == IDS_STRING:
            out = ctypes.c_char_p()
            _errors.check(lib.recint_idmap_id_str(m, index, ctypes.byref(out)))
            return _arrays.decode_id(out.value)
        out = ctypes.c_int64()
        _errors.check(lib.recint_idmap_id(m, index, ctypes.byref(out)))
        return out.value

    def ids(self, indices=None):
        """External ids of indices (default: the whole catalogue) as a list."""
        if indices is None:
            indices = range(len(self))
        elif _arrays.is_numpy_array(indices):
            indices = indices.tolist()
        return [self.id(i) for i in indices]
