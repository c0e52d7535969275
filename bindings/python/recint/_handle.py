"""Ownership of C handles.

A wrapper object (Dataset, Model, ...) holds an _Owner, and the _Owner holds the
C pointer and frees it exactly once, when the last Python reference to the
_Owner disappears.  Objects that point into a handle's memory (zero-copy numpy
views, trainers that borrow a model) keep the _Owner referenced, so close() on
the wrapper never frees memory that is still visible from Python: it only makes
the wrapper unusable, and the C free happens when the last dependant goes.
"""

from . import _errors


class _Owner:
    __slots__ = ("ptr", "free", "deps", "__weakref__")

    def __init__(self, ptr, free, deps=()):
        self.ptr = ptr
        self.free = free
        self.deps = deps  # owners of C objects this one borrows; released after it

    def release(self):
        ptr, self.ptr = self.ptr, None
        if ptr:
            self.free(ptr)
        self.deps = ()

    def __del__(self):
        try:
            self.release()
        except Exception:  # interpreter shutdown may have torn down ctypes
            pass


class Handle:
    """Base of the classes owning one C handle. Usable as a context manager."""

    _free_fn = None  # set by subclasses: the recint_*_free function

    def __init__(self, ptr, deps=()):
        if not ptr:
            raise _errors.StateError("%s: NULL handle from the library" % type(self).__name__,
                                     _errors.StateError.code)
        self._owner = _Owner(ptr, type(self)._free_fn, deps)

    @property
    def _p(self):
        """The C pointer; raises StateError after close()."""
        owner = self.__dict__.get("_owner")
        if owner is None:
            raise _errors.StateError("%s is closed" % type(self).__name__,
                                     _errors.StateError.code)
        return owner.ptr

    @property
    def closed(self):
        return self.__dict__.get("_owner") is None

    def close(self):
        """Release the C object (deferred while zero-copy views of it are alive).
        Calling close() again is harmless."""
        self._owner = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
