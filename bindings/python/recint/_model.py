"""recint_model and recint_trainer."""

import contextlib
import ctypes

from . import _arrays, _config, _constants, _errors
from . import _filter
from ._dataset import fspath_bytes
from ._handle import Handle
from ._ids import IdLookup, scalar_u32
from ._lib import PROGRESS_FN, ModelP, TrainerP, lib


_U32_MAX = (1 << 32) - 1


def kinds():
    """Model kinds this build of the library knows, e.g. ['pop', 'factors']."""
    return [k for k in lib.recint_model_kinds().decode().split("|") if k]


def _matrix(values, what):
    """A 2-D float32 input as (C view, rows, cols): a numpy array (or anything
    numpy.asarray takes) with numpy, a list of equal-length rows without."""
    if _arrays.np is not None:
        np = _arrays.np
        a = np.ascontiguousarray(np.asarray(values, dtype=np.float32))
        if a.ndim != 2:
            raise ValueError("%s: expected a 2-D array, got shape %s" % (what, a.shape))
        rows, cols = int(a.shape[0]), int(a.shape[1])
        return _arrays.to_c(a.reshape(-1), ctypes.c_float, what), rows, cols
    rows = [list(r) for r in values]
    cols = len(rows[0]) if rows else 0
    for i, r in enumerate(rows):
        if len(r) != cols:
            raise ValueError("%s: row %d has %d values, row 0 has %d" % (what, i, len(r), cols))
    flat = [v for r in rows for v in r]
    return _arrays.to_c(flat, ctypes.c_float, what), len(rows), cols


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
    """Fits a model; keeps the model alive for as long as the trainer exists.
    A fit is refused (StateError) while an explorer reads the model."""

    _free_fn = staticmethod(lib.recint_trainer_free)

    def __init__(self, model, config=None, **params):
        cfg = _config.make(params, base=config)
        ptr = TrainerP()
        mp = model._p
        _errors.check(lib.recint_trainer_new(ctypes.byref(ptr), mp, _config.ptr_of(cfg)))
        # The C trainer borrows the C model: its owner frees the model only after us.
        self._model_owner = mp._recint_owner
        super().__init__(ptr, deps=(self._model_owner,))
        self.model = model

    def fit(self, train, valid=None, progress=None):
        """Fit from scratch on train (valid optional). progress(step, steps, loss)
        is called as training advances; return True from it to stop."""
        return self._run("Trainer.fit", lib.recint_trainer_fit, (train, valid), progress)

    def partial_fit(self, data, progress=None):
        """Continue training from the model's current state on data (a Dataset
        on the model's catalogue); see HybridModel.fit_partial."""
        return self._run("Trainer.partial_fit", lib.recint_trainer_partial_fit, (data,),
                         progress)

    def _run(self, what, fn, datasets, progress):
        p = self._p
        # The datasets stay alive and unchanged while the progress callback runs
        # Python code; the model refuses any other use until the call returns.
        ptrs = [d._p if d is not None else None for d in datasets]
        with contextlib.ExitStack() as stack:
            stack.enter_context(self._model_owner.changing(what))
            for dp in ptrs:
                if dp is not None:
                    stack.enter_context(dp._recint_owner.read_during(what))
            call_with_progress(lambda cb: fn(p, *ptrs, cb, None), progress)
        return self.model


class Model(Handle):
    """A recommender model: Model("pop", **params). Keyword arguments are library
    parameters (recint.params()); they configure the model and its training."""

    _free_fn = staticmethod(lib.recint_model_free)
    _noun = "model"

    def __init__(self, kind="pop", _ptr=None, **params):
        if _ptr is None:
            self._config = _config.make(params)
            _ptr = ModelP()
            _errors.check(lib.recint_model_new(ctypes.byref(_ptr), str(kind).encode(),
                                               _config.ptr_of(self._config)))
        else:
            self._config = None
        super().__init__(_ptr)

    # Made on each access: a lookup stored on the model would form a cycle that
    # only the cyclic collector could free.
    @property
    def users(self):
        return IdLookup(self, lib.recint_model_users, "user")

    @property
    def items(self):
        return IdLookup(self, lib.recint_model_items, "item")

    # ------------------------------------------------------------------ training

    def fit(self, train, valid=None, progress=None, **params):
        """Fit on a Dataset. params override the model's parameters for this
        training run (e.g. threads=1). Returns self. Raises StateError while an
        Explorer of this model exists (close it first, or fit a new model)."""
        with Trainer(self, self._config, **params) as trainer:
            trainer._run("%s.fit" % type(self).__name__, lib.recint_trainer_fit,
                         (train, valid), progress)
        return self

    # ----------------------------------------------------------------- inference

    def _user_arg(self, user, user_id):
        if (user is None) == (user_id is None):
            raise TypeError("pass exactly one of user (dense index) or user_id (external id)")
        if user_id is not None:
            return self.users.index(user_id)
        return scalar_u32(user, "user")

    def _top(self, k, call):
        """Run call(k, items_ptr, scores_ptr, n_ptr) with room for k results and
        return (items, scores)."""
        k = scalar_u32(k, "k")
        n_items = lib.recint_model_n_items(self._p)
        if n_items and k > n_items:
            k = n_items  # no more can come back; spares allocating a huge k
        items, ip = _arrays.alloc(ctypes.c_uint32, max(k, 1))
        scores, sp = _arrays.alloc(ctypes.c_float, max(k, 1))
        n = ctypes.c_uint32()
        _errors.check(call(k, ip, sp, ctypes.byref(n)))
        n = min(n.value, k)
        return _arrays.finish(items, n), _arrays.finish(scores, n)

    def recommend(self, user=None, k=10, *, user_id=None, ids=False, filter=None):
        """Top-k items for a user, best first, excluding the user's training items.

        user is a dense index; pass user_id= instead to look up an external id.
        filter: a recint.Filter (allow/block lists, include_seen).
        Returns (items, scores): item indices (uint32) and float32 scores as numpy
        arrays (lists without numpy). ids=True returns external item ids (a list)
        in place of indices."""
        u = self._user_arg(user, user_id)
        p, fp = self._p, _filter.ptr_of(filter)
        if fp is None:
            call = lambda kk, ip, sp, np_: lib.recint_model_recommend(p, u, kk, ip, sp, np_)
        else:
            call = lambda kk, ip, sp, np_: lib.recint_model_recommend_filtered(
                p, u, kk, fp, ip, sp, np_)
        items, scores = self._top(k, call)
        if ids:
            items = self.items.ids(items)
        return items, scores

    def recommend_batch(self, users, k=10, filter=None, threads=None):
        """Top-k for many users (dense indices) at once, through the batch path.

        Returns (items, scores, counts). With numpy: items (uint32) and scores
        (float32) are 2-D arrays of len(users) rows and min(k, n_items) columns;
        row r holds counts[r] results, and the slots after them hold item
        4294967295 and score NaN. Without numpy: lists of lists, each row cut to
        its count. Results equal recommend(users[r], k, filter=filter) row by
        row. threads: worker threads for this call (None: the model's setting)."""
        u = _arrays.to_c(users, ctypes.c_uint32, "users")
        k = scalar_u32(k, "k")
        p, fp = self._p, _filter.ptr_of(filter)
        n_items = lib.recint_model_n_items(p)
        if n_items and k > n_items:
            k = n_items
        cfg = _config.make({"threads": threads} if threads is not None else {})
        total = u.n * k
        items, ip = _arrays.alloc(ctypes.c_uint32, max(total, 1))
        scores, sp = _arrays.alloc(ctypes.c_float, max(total, 1))
        counts, cp = _arrays.alloc(ctypes.c_uint32, max(u.n, 1))
        _errors.check(lib.recint_model_recommend_batch(p, u.ptr, u.n, k, fp,
                                                       _config.ptr_of(cfg), ip, sp, cp))
        counts = _arrays.finish(counts, u.n)
        if _arrays.np is not None:
            items = items[:total].reshape(u.n, k)
            scores = scores[:total].reshape(u.n, k)
            pad = _arrays.np.arange(k)[None, :] >= counts[:, None]
            items[pad] = _U32_MAX
            scores[pad] = float("nan")
            return items, scores, counts
        return ([list(items[r * k:r * k + counts[r]]) for r in range(u.n)],
                [list(scores[r * k:r * k + counts[r]]) for r in range(u.n)], counts)

    def recommend_vector(self, vector, k=10, filter=None, exclude=None):
        """Top-k items for a user vector of `dim` floats that is not in the model
        (a folded-in or cold user). exclude: item indices to leave out (any
        order; repeats are fine). Returns (items, scores)."""
        v = _arrays.to_c(vector, ctypes.c_float, "vector")
        dim = self.dim
        if v.n != dim:
            raise ValueError("vector has %d values, the model's dim is %d" % (v.n, dim))
        ex = sorted(set(int(i) for i in exclude)) if exclude is not None else []
        e = _arrays.to_c(ex, ctypes.c_uint32, "exclude")
        p, fp = self._p, _filter.ptr_of(filter)
        return self._top(k, lambda kk, ip, sp, np_: lib.recint_model_recommend_vector(
            p, v.ptr, kk, fp, e.ptr, e.n, ip, sp, np_))

    def similar_items(self, item, k=10, filter=None):
        """Items most similar to item (a dense index), by the model's similarity
        parameter (cosine, or dot); the item itself is never returned.
        Returns (items, scores)."""
        i = scalar_u32(item, "item")
        p, fp = self._p, _filter.ptr_of(filter)
        return self._top(k, lambda kk, ip, sp, np_: lib.recint_model_similar_items(
            p, i, kk, fp, ip, sp, np_))

    def fold_in(self, items, weights=None):
        """The vector the model gives a user with these interactions (item
        indices, distinct; weights None means 1, else finite and >= 0), computed
        without changing the model: for "als" the exact solve of the user's row.
        Pass it to recommend_vector. Returns dim float32 values (numpy array, or a
        list without numpy). Kinds without fold-in raise UnsupportedError."""
        it = _arrays.to_c(items, ctypes.c_uint32, "items")
        w = None
        if weights is not None:
            w = _arrays.to_c(weights, ctypes.c_float, "weights")
            if w.n != it.n:
                raise ValueError("weights has %d values for %d items" % (w.n, it.n))
        dim = self.dim
        buf, out = _arrays.alloc(ctypes.c_float, max(dim, 1))
        _errors.check(lib.recint_model_fold_in(self._p, it.ptr if it.n else None,
                                               w.ptr if w is not None and w.n else None,
                                               it.n, out))
        return _arrays.finish(buf, dim)

    def feature_vector(self, cols, weights=None, side="item"):
        """Cold start from features alone: (vector, bias) of a user or item
        (side "user" or "item") whose feature row has these columns (numbering of
        the features the model was fitted with; weights None means 1). A user's
        vector goes to recommend_vector; an item scores v . vector + bias for a
        user vector v. Kinds without feature embeddings raise UnsupportedError."""
        sides = {"user": _constants.SIDE_USER, "item": _constants.SIDE_ITEM}
        if side not in sides:
            raise ValueError("side must be 'user' or 'item', not %r" % (side,))
        c = _arrays.to_c(cols, ctypes.c_uint32, "cols")
        w = None
        if weights is not None:
            w = _arrays.to_c(weights, ctypes.c_float, "weights")
            if w.n != c.n:
                raise ValueError("weights has %d values for %d columns" % (w.n, c.n))
        dim = self.dim
        buf, out = _arrays.alloc(ctypes.c_float, max(dim, 1))
        bias = ctypes.c_float()
        _errors.check(lib.recint_model_feature_vector(self._p, sides[side],
                                                      c.ptr if c.n else None,
                                                      w.ptr if w is not None and w.n else None,
                                                      c.n, out, ctypes.byref(bias)))
        return _arrays.finish(buf, dim), bias.value

    def explain(self, user, item, k=10):
        """Why item (dense index) scores as it does for user (dense index): the
        score decomposes over the user's training items. Returns (items,
        contributions, score): the k largest contributions, best first (ties to
        the smaller item), and the explained score, the sum over ALL training
        items, equal to item_vector . fold_in(user's training items) (for "als"
        the exact solve, which differs from the served score by the training
        solver's convergence)."""
        u, i = scalar_u32(user, "user"), scalar_u32(item, "item")
        k = scalar_u32(k, "k")
        n_items = lib.recint_model_n_items(self._p)
        if n_items and k > n_items:
            k = n_items  # a history holds at most n_items items
        items, ip = _arrays.alloc(ctypes.c_uint32, max(k, 1))
        contrib, cp = _arrays.alloc(ctypes.c_float, max(k, 1))
        n, score = ctypes.c_uint32(), ctypes.c_float()
        _errors.check(lib.recint_model_explain(self._p, u, i, k, ip, cp, ctypes.byref(n),
                                               ctypes.byref(score)))
        n = min(n.value, k)
        return _arrays.finish(items, n), _arrays.finish(contrib, n), score.value

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

    def factors(self):
        """(user_factors, item_factors, item_bias) the model ranks with: n_users x
        dim and n_items x dim float32 matrices and n_items biases (zeros when the
        kind has none), numpy arrays or lists without numpy; rows in index order.
        Model.from_factors(*model.factors()) scores as the model does."""
        p = self._p
        nu, ni, d = lib.recint_model_n_users(p), lib.recint_model_n_items(p), lib.recint_model_dim(p)
        ubuf, uout = _arrays.alloc(ctypes.c_float, max(nu * d, 1))
        vbuf, vout = _arrays.alloc(ctypes.c_float, max(ni * d, 1))
        bbuf, bout = _arrays.alloc(ctypes.c_float, max(ni, 1))
        _errors.check(lib.recint_model_factors(p, nu, ni, d, uout, vout, bout))
        return (_arrays.finish(ubuf, nu * d, rows=nu, cols=d),
                _arrays.finish(vbuf, ni * d, rows=ni, cols=d), _arrays.finish(bbuf, ni))

    # --------------------------------------------------------------- persistence

    def save(self, path):
        _errors.check(lib.recint_model_save(self._p, fspath_bytes(path)))

    @classmethod
    def load(cls, path, **params):
        """A model saved by save(); a damaged file raises FormatError. params are
        load settings: load_memory_limit=BYTES caps what the load allocates (0,
        the default: 8 x the file size + 64 MiB); a load needing more raises
        FormatError naming the limit. The model's own settings come from the file."""
        cfg = _config.make(params)
        ptr = ModelP()
        # Without params the 0.1 call, so that loading still works on a library
        # older than recint_model_load_ex.
        if cfg is None:
            rc = lib.recint_model_load(ctypes.byref(ptr), fspath_bytes(path))
        else:
            rc = lib.recint_model_load_ex(ctypes.byref(ptr), fspath_bytes(path),
                                          _config.ptr_of(cfg))
        _errors.check(rc)
        return cls(_ptr=ptr)

    @classmethod
    def from_factors(cls, user_factors, item_factors, bias=None, **params):
        """A model serving given vectors (kind "factors"): scores are
        user_factors @ item_factors.T + bias. user_factors: n_users x dim (None
        or empty for a model without users); item_factors: n_items x dim;
        bias: n_items values or None. The arrays are copied; ids are 0..n-1.
        params are library parameters (quantize, similarity, isa, ...)."""
        V, n_items, dim = _matrix(item_factors, "item_factors")
        if user_factors is None or len(user_factors) == 0:
            U, n_users = None, 0
        else:
            U, n_users, udim = _matrix(user_factors, "user_factors")
            if udim != dim:
                raise ValueError("user_factors have %d columns, item_factors %d" % (udim, dim))
        b = _arrays.to_c(bias, ctypes.c_float, "bias") if bias is not None else None
        if b is not None and b.n != n_items:
            raise ValueError("bias has %d values for %d items" % (b.n, n_items))
        cfg = _config.make(params)
        ptr = ModelP()
        _errors.check(lib.recint_model_new_factors(
            ctypes.byref(ptr), n_users, n_items, dim, U.ptr if U is not None and dim else None,
            V.ptr if dim else None, b.ptr if b is not None else None, _config.ptr_of(cfg)))
        return cls(_ptr=ptr)

    @classmethod
    def from_bytes(cls, data, **params):
        """A model from the bytes of a saved file (copied by the library);
        params as for load()."""
        data = bytes(data)
        cfg = _config.make(params)
        ptr = ModelP()
        if cfg is None:
            rc = lib.recint_model_load_buffer(ctypes.byref(ptr), data, len(data))
        else:
            rc = lib.recint_model_load_buffer_ex(ctypes.byref(ptr), data, len(data),
                                                 _config.ptr_of(cfg))
        _errors.check(rc)
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

    @property
    def dim(self):
        """Length of the user and item vectors (0 for pop and before fit)."""
        return lib.recint_model_dim(self._p)

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


class ALSModel(Model):
    """Implicit-feedback alternating least squares (model kind "als"):

        model = recint.ALSModel(dim=64, regularization=..., alpha=...).fit(train)
        items, scores = model.recommend(0, k=10)
        vec = model.fold_in([3, 17, 42], weights=[1, 2, 1])
        items, scores = model.recommend_vector(vec, k=10)
        items, contributions, score = model.explain(0, items[0], k=5)

        model.partial_fit_users(recint.Dataset.from_arrays([7, 123456], [3, 3]))

    Keyword arguments are library parameters of the als kind (recint.params());
    fit, recommend, similar_items, fold_in and explain are those of Model.
    fit(..., progress=fn) with compute_loss=True passes the training objective
    as fn's loss argument."""

    def __init__(self, _ptr=None, **params):
        super().__init__("als", _ptr=_ptr, **params)

    def partial_fit_users(self, data):
        """Re-solve the users with rows in data (a Dataset whose external ids are
        of the model's kind) from exactly those rows, which replace their
        histories; users new to the model are appended (n_users grows, users.index
        finds them). data's items must be in the model (NotFoundError otherwise).
        Every other user keeps its vector. On error the model is unchanged.
        Returns self. Refused (StateError) while an Explorer of the model exists."""
        dp = data._p
        with self._changing("ALSModel.partial_fit_users") as p:
            _errors.check(lib.recint_model_partial_fit_users(p, dp))
        return self

    def partial_fit_items(self, data):
        """The same for the items with rows in data, against the current user
        vectors; new items are appended. data's users must be in the model.
        Returns self."""
        dp = data._p
        with self._changing("ALSModel.partial_fit_items") as p:
            _errors.check(lib.recint_model_partial_fit_items(p, dp))
        return self

    @classmethod
    def load(cls, path, **params):
        """An als model saved by save(); a file of another kind raises ValueError."""
        return _only_als(super().load(path, **params))

    @classmethod
    def from_bytes(cls, data, **params):
        return _only_als(super().from_bytes(data, **params))


def _only_als(model):
    if model.kind != "als":
        kind = model.kind
        model.close()
        raise ValueError("the saved model is of kind %r, not 'als'" % kind)
    return model
