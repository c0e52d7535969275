"""recint_model and recint_trainer."""

import ctypes

from . import _arrays, _config, _errors
from ._dataset import fspath_bytes
from ._handle import Handle
from ._ids import IdLookup, scalar_u32
from ._lib import PROGRESS_FN, ModelP, TrainerP, lib


def kinds():
    """Model kinds this build of the library knows, e.g. ['pop']."""
    return [k for k in lib.recint_model_kinds().decode().split("|") if k]


def call_with_progress(call, progress):
    """Run call(c_callback) with progress(step, steps, loss) as the C progress
    callback. A truthy return value cancels (CanceledError); an exception raised
    by progress cancels too and is re-raised here."""
    if progress is None:
        _errors.check(call(PROGRESS_FN()))  # NULL function pointer
        return
    if not callable(progress):
        raise TypeError("progress must be callable, got %r" % (progress,))
    raised = []

    def trampoline(_ctx, step, steps, loss):
        try:
            return 1 if progress(step, steps, loss) else 0
        except BaseException as exc:  # ctypes would print and swallow it
            raised.append(exc)
            return 1

    c_callback = PROGRESS_FN(trampoline)  # referenced until the call returns
    rc = call(c_callback)
    if raised:
        raise raised[0]
    _errors.check(rc)


class Trainer(Handle):
    """Fits a model; keeps the model alive for as long as the trainer exists."""

    _free_fn = staticmethod(lib.recint_trainer_free)

    def __init__(self, model, config=None, **params):
        cfg = _config.make(params, base=config)
        ptr = TrainerP()
        _errors.check(lib.recint_trainer_new(ctypes.byref(ptr), model._p, _config.ptr_of(cfg)))
        # The C trainer borrows the C model: its owner frees the model only after us.
        super().__init__(ptr, deps=(model._owner,))
        self.model = model

    def fit(self, train, valid=None, progress=None):
        """Fit from scratch on train (valid optional). progress(step, steps, loss)
        is called as training advances; return True from it to stop."""
        p, tp = self._p, train._p
        vp = valid._p if valid is not None else None
        call_with_progress(lambda cb: lib.recint_trainer_fit(p, tp, vp, cb, None), progress)
        return self.model


class Model(Handle):
    """A recommender model: Model("pop", **params). Keyword arguments are library
    parameters (recint.params()); they configure the model and its training."""

    _free_fn = staticmethod(lib.recint_model_free)

    def __init__(self, kind="pop", _ptr=None, **params):
        if _ptr is None:
            self._config = _config.make(params)
            _ptr = ModelP()
            _errors.check(lib.recint_model_new(ctypes.byref(_ptr), str(kind).encode(),
                                               _config.ptr_of(self._config)))
        else:
            self._config = None
        super().__init__(_ptr)
        self.users = IdLookup(self, lib.recint_model_users, "user")
        self.items = IdLookup(self, lib.recint_model_items, "item")

    # ------------------------------------------------------------------ training

    def fit(self, train, valid=None, progress=None, **params):
        """Fit on a Dataset. params override the model's parameters for this
        training run (e.g. threads=1). Returns self."""
        with Trainer(self, self._config, **params) as trainer:
            trainer.fit(train, valid, progress)
        return self

    # ----------------------------------------------------------------- inference

    def _user_arg(self, user, user_id):
        if (user is None) == (user_id is None):
            raise TypeError("pass exactly one of user (dense index) or user_id (external id)")
        if user_id is not None:
            return self.users.index(user_id)
        return scalar_u32(user, "user")

    def recommend(self, user=None, k=10, *, user_id=None, ids=False):
        """Top-k items for a user, best first, excluding the user's training items.

        user is a dense index; pass user_id= instead to look up an external id.
        Returns (items, scores): item indices (uint32) and float32 scores as numpy
        arrays (lists without numpy). ids=True returns external item ids (a list)
        in place of indices."""
        u = self._user_arg(user, user_id)
        k = scalar_u32(k, "k")
        p = self._p
        n_items = lib.recint_model_n_items(p)
        if n_items and k > n_items:
            k = n_items  # no more can come back; spares allocating a huge k
        items, ip = _arrays.alloc(ctypes.c_uint32, max(k, 1))
        scores, sp = _arrays.alloc(ctypes.c_float, max(k, 1))
        n = ctypes.c_uint32()
        _errors.check(lib.recint_model_recommend(p, u, k, ip, sp, ctypes.byref(n)))
        n = min(n.value, k)
        items, scores = _arrays.finish(items, n), _arrays.finish(scores, n)
        if ids:
            items = self.items.ids(items)
        return items, scores

    def score(self, users, items=None):
        """Scores of users x items (dense indices; items None: all items) as a
        2-D float32 numpy array, or a list of lists without numpy."""
        p = self._p
        if isinstance(users, int):
            users = [users]
        u = _arrays.to_c(users, ctypes.c_uint32, "users")
        if items is None:
            it, n_items = None, lib.recint_model_n_items(p)
        else:
            it = _arrays.to_c(items, ctypes.c_uint32, "items")
            n_items = it.n
        total = u.n * n_items
        buf, out = _arrays.alloc(ctypes.c_float, max(total, 1))
        _errors.check(lib.recint_model_score(p, u.ptr, u.n, it.ptr if it else None,
                                             it.n if it else 0, out))
        return _arrays.finish(buf, total, rows=u.n, cols=n_items)

    # --------------------------------------------------------------- persistence

    def save(self, path):
        _errors.check(lib.recint_model_save(self._p, fspath_bytes(path)))

    @classmethod
    def load(cls, path):
        """A model saved by save(); a damaged file raises FormatError."""
        ptr = ModelP()
        _errors.check(lib.recint_model_load(ctypes.byref(ptr), fspath_bytes(path)))
        return cls(_ptr=ptr)

    @classmethod
    def from_bytes(cls, data):
        """A model from the bytes of a saved file (copied by the library)."""
        data = bytes(data)
        ptr = ModelP()
        _errors.check(lib.recint_model_load_buffer(ctypes.byref(ptr), data, len(data)))
        return cls(_ptr=ptr)

    # --------------------------------------------------------------------- reads

    @property
    def kind(self):
        k = lib.recint_model_kind(self._p)
        return k.decode() if k is not None else None

    @property
    def n_users(self):
        return lib.recint_model_n_users(self._p)

    @property
    def n_items(self):
        return lib.recint_model_n_items(self._p)

    def user_index(self, user_id):
        return self.users.index(user_id)

    def user_id(self, index):
        return self.users.id(index)

    def item_index(self, item_id):
        return self.items.index(item_id)

    def item_id(self, index):
        return self.items.id(index)

    def __repr__(self):
        if self.closed:
            return "Model(<closed>)"
        return "Model(kind=%r, n_users=%d, n_items=%d)" % (self.kind, self.n_users, self.n_items)
