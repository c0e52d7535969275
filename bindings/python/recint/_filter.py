"""recint_filter: which items a recommendation call may return."""

import ctypes

from . import _arrays, _errors
from ._handle import Handle
from ._ids import scalar_u32
from ._lib import FilterP, lib


class Filter(Handle):
    """Allow-list, block-list and seen-item rule over a catalogue of n_items.

        f = Filter(model.n_items, allow=[3, 5, 8], block=[5], include_seen=False)

    allow: results come only from the union of every allow() call (an allow()
    with no items allows nothing); block: never returned; include_seen: keep the
    user's training items (they are excluded by default). A filter is only read
    by recommend calls, so one filter may serve many threads at once."""

    _free_fn = staticmethod(lib.recint_filter_free)

    def __init__(self, n_items, allow=None, block=None, include_seen=False):
        n_items = scalar_u32(n_items, "n_items")
        ptr = FilterP()
        _errors.check(lib.recint_filter_new(ctypes.byref(ptr), n_items))
        super().__init__(ptr)
        self._n_items = n_items
        self._include_seen = False
        if allow is not None:
            self.allow(allow)
        if block is not None:
            self.block(block)
        if include_seen:
            self.include_seen = True

    @property
    def n_items(self):
        return self._n_items

    def allow(self, items):
        """Add items (dense indices) to the allow-list. Returns self."""
        c = _arrays.to_c(items, ctypes.c_uint32, "items")
        _errors.check(lib.recint_filter_allow(self._p, c.ptr, c.n))
        return self

    def block(self, items):
        """Add items (dense indices) to the block-list. Returns self."""
        c = _arrays.to_c(items, ctypes.c_uint32, "items")
        _errors.check(lib.recint_filter_block(self._p, c.ptr, c.n))
        return self

    def clear(self):
        """Back to a fresh filter: all allowed, nothing blocked, seen excluded."""
        lib.recint_filter_clear(self._p)
        self._include_seen = False
        return self

    @property
    def include_seen(self):
        return self._include_seen

    @include_seen.setter
    def include_seen(self, value):
        _errors.check(lib.recint_filter_include_seen(self._p, 1 if value else 0))
        self._include_seen = bool(value)

    def __repr__(self):
        if self.closed:
            return "Filter(<closed>)"
        return "Filter(n_items=%d, include_seen=%r)" % (self._n_items, self._include_seen)


def ptr_of(f):
    if f is None:
        return None
    if not isinstance(f, Filter):
        raise TypeError("filter must be a recint.Filter or None, got %r" % (f,))
    return f._p
