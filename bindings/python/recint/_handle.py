"""Lifetimes of C handles: the one rule of the binding.

Each C object belongs to one _Owner, which frees it exactly once.  Everything
that points into a C object keeps its _Owner referenced:

  - the pointer objects that `Handle._p` hands out for a call (so a close() from
    a progress callback or another thread cannot free what a running call uses);
  - handles whose C object borrows another one (an explorer reads its model, a
    trainer changes its model): `deps`;
  - zero-copy views, through a Reader.

So close() only retires the Python wrapper; the C free waits for the last of
those.  A cyclic garbage collection may finalize an owner before the objects
that borrow it (CPython finalizes a cycle in no fixed order), so every borrower
is also counted in `holders` and the free waits until that count is zero.

Borrowers that READ an object's memory across calls (explorers, zero-copy views)
are registered as readers.  A call that changes the object (fit, add, ...) runs
inside `changing(what)`, which raises StateError naming them while any is alive,
and marks the object busy for its duration: until it returns, the wrapper refuses
every use (from a progress callback, or another thread), so nothing starts
reading memory the change is about to replace.
"""

import contextlib
import weakref

from . import _errors


def _state_error(message):
    return _errors.StateError(message, _errors.StateError.code)


class ReaderKind:
    """How a class of readers is named in the error of a refused change."""

    __slots__ = ("singular", "plural", "advice")

    def __init__(self, singular, plural, advice):
        self.singular, self.plural, self.advice = singular, plural, advice

    def describe(self, n):
        return "%d %s" % (n, self.singular if n == 1 else self.plural) if self.plural \
            else self.singular


class _Owner:
    __slots__ = ("ptr", "free", "noun", "deps", "holders", "retired", "readers", "busy",
                 "__weakref__")

    def __init__(self, ptr, free, noun, deps=()):
        self.ptr = ptr
        self.free = free
        self.noun = noun
        self.deps = tuple(deps)  # owners of C objects this one borrows; freed after it
        self.holders = set()  # ids of the live borrowers (set ops are atomic under the GIL)
        self.retired = False  # no Python reference left that could use the object
        self.readers = weakref.WeakKeyDictionary()  # reader -> ReaderKind
        self.busy = None  # name of the change in progress
        for d in self.deps:
            d.hold(self)

    # ------------------------------------------------------------- lifetime

    def hold(self, holder):
        self.holders.add(id(holder))

    def unhold(self, holder):
        self.holders.discard(id(holder))
        if self.retired and not self.holders:
            self._free()

    def _free(self):
        ptr, self.ptr = self.ptr, None
        deps, self.deps = self.deps, ()
        if ptr:
            self.free(ptr)
        for d in deps:
            d.unhold(self)

    def __del__(self):
        try:
            self.retired = True
            if not self.holders:
                self._free()
        except Exception:  # interpreter shutdown may have torn down ctypes
            pass

    def pointer(self):
        """A copy of the C pointer that keeps this owner alive while it exists."""
        p = type(self.ptr).from_buffer_copy(self.ptr)
        p._recint_owner = self
        return p

    # ------------------------------------------------------ readers, changes

    def add_reader(self, reader, kind):
        if self.busy:
            raise _state_error("the %s is busy: %s is running on it" % (self.noun, self.busy))
        self.readers[reader] = kind

    def check_unread(self, what):
        """Raise StateError when a change of this object would break a reader."""
        if self.busy:
            raise _state_error("%s: the %s is busy: %s is running on it"
                               % (what, self.noun, self.busy))
        counts = {}
        for kind in list(self.readers.values()):
            counts[kind] = counts.get(kind, 0) + 1
        if counts:
            kinds = sorted(counts, key=lambda k: k.singular)
            raise _state_error("%s: the %s is in use by %s; %s" % (
                what, self.noun, " and ".join(k.describe(counts[k]) for k in kinds),
                "; ".join(k.advice for k in kinds)))

    @contextlib.contextmanager
    def changing(self, what):
        """The block changes the C object: refused while readers are alive; the
        wrapper is busy until the block ends. Yields the C pointer."""
        self.check_unread(what)
        self.busy = what
        try:
            yield self.pointer()
        finally:
            self.busy = None

    @contextlib.contextmanager
    def read_during(self, what):
        """The block reads the C object while Python code may run (a progress
        callback): changes are refused meanwhile."""
        token = Reader(self, ReaderKind("a running %s" % what, None,
                                        "change it after %s returns" % what))
        try:
            yield
        finally:
            del self.readers[token]
            token.release()


class Reader:
    """A borrower reading an owner's memory across calls (e.g. the anchor of
    zero-copy views): keeps the owner alive and its changes refused while alive."""

    __slots__ = ("owner", "__weakref__")

    def __init__(self, owner, kind):
        owner.add_reader(self, kind)
        owner.hold(self)
        self.owner = owner

    def release(self):
        owner, self.owner = self.owner, None
        if owner is not None:
            owner.unhold(self)

    def __del__(self):
        try:
            self.release()
        except Exception:  # interpreter shutdown
            pass


class Handle:
    """Base of the classes owning one C handle. Usable as a context manager."""

    _free_fn = None  # set by subclasses: the recint_*_free function
    _noun = None  # how errors name the object; default: the class name in lower case

    def __init__(self, ptr, deps=()):
        if not ptr:
            raise _state_error("%s: NULL handle from the library" % type(self).__name__)
        self._owner = _Owner(ptr, type(self)._free_fn, self._noun or type(self).__name__.lower(),
                             deps)

    @property
    def _own(self):
        """The owner, for a call on the object; StateError after close() or while
        a change of the object is running."""
        owner = self.__dict__.get("_owner")
        if owner is None or owner.ptr is None:  # ptr: freed by a collection in progress
            raise _state_error("%s is closed" % type(self).__name__)
        if owner.busy:
            raise _state_error("%s is busy: %s is running on it (e.g. from its progress "
                               "callback)" % (type(self).__name__, owner.busy))
        return owner

    @property
    def _p(self):
        """The C pointer for a call (it keeps the C object alive while referenced);
        raises StateError after close() or while a change is running."""
        return self._own.pointer()

    def _changing(self, what):
        """Context of a call that changes the C object (see _Owner.changing)."""
        return self._own.changing(what)

    @property
    def closed(self):
        return self.__dict__.get("_owner") is None

    def close(self):
        """Retire the wrapper and release the C object (deferred while zero-copy
        views, explorers or trainers still use it). Calling close() again is harmless."""
        self._owner = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
