"""recint_dataset: interactions (user, item, weight, timestamp)."""

import ctypes
import os
import weakref

from . import _arrays, _config, _errors
from ._handle import Handle, Reader, ReaderKind
from ._ids import IdLookup, scalar_u64
from ._lib import DatasetP, FeaturesP, lib


def fspath_bytes(path):
    return os.fsencode(os.fspath(path))


# The zero-copy views of one dataset share one Reader, referenced by each view.
_VIEWS = ReaderKind("zero-copy views from csr(copy=False)/csc(copy=False)", None,
                    "delete them first or use copy=True")


class Dataset(Handle):
    """Interactions with users and items mapped to dense indices.

    Keyword arguments are library parameters (see recint.params()); the one a new
    dataset reads is `duplicates` (sum|last|max).
    """

    _free_fn = staticmethod(lib.recint_dataset_free)
    _noun = "dataset"

    def __init__(self, _ptr=None, **params):
        if _ptr is None:
            cfg = _config.make(params)
            _ptr = DatasetP()
            _errors.check(lib.recint_dataset_new(ctypes.byref(_ptr), _config.ptr_of(cfg)))
        elif params:
            raise TypeError("Dataset(_ptr=...) takes no parameters")
        super().__init__(_ptr)
        self._anchor = None

    # Made on each access: a lookup stored on the dataset would form a cycle that
    # only the cyclic collector could free.
    @property
    def users(self):
        return IdLookup(self, lib.recint_dataset_users, "user")

    @property
    def items(self):
        return IdLookup(self, lib.recint_dataset_items, "item")

    # ------------------------------------------------------------------ building

    @classmethod
    def from_arrays(cls, users, items, weights=None, timestamps=None, **params):
        """Dataset from parallel sequences of user ids, item ids and optional
        weights (None: 1) and timestamps (None: 0). Ids are all integers (int64) or
        all strings; see Dataset.add."""
        ds = cls(**params)
        ds.add(users, items, weights, timestamps)
        return ds

    def add(self, users, items, weights=None, timestamps=None):
        """Append interactions. New ids get the next indices in ascending id order
        within the call; repeated (user, item) pairs merge by `duplicates`."""
        with self._changing("Dataset.add") as p:
            self._add(p, users, items, weights, timestamps)
        return self

    @staticmethod
    def _add(p, users, items, weights, timestamps):
        users, items = _arrays.materialize(users), _arrays.materialize(items)
        kind = _arrays.id_kind(users, "users")
        if _arrays.id_kind(items, "items") != kind:
            raise TypeError("users and items must both be integer ids or both string ids")
        if kind == "str":
            u = _arrays.to_c_strings(users, "users")
            i = _arrays.to_c_strings(items, "items")
        else:
            u = _arrays.to_c(users, ctypes.c_int64, "users")
            i = _arrays.to_c(items, ctypes.c_int64, "items")
        w = _arrays.to_c(weights, ctypes.c_float, "weights") if weights is not None else None
        t = (_arrays.to_c(timestamps, ctypes.c_int64, "timestamps")
             if timestamps is not None else None)
        for name, conv in (("items", i), ("weights", w), ("timestamps", t)):
            if conv is not None and conv.n != u.n:
                raise ValueError("%s has %d values but users has %d" % (name, conv.n, u.n))
        fn = lib.recint_dataset_add_str if kind == "str" else lib.recint_dataset_add
        _errors.check(fn(p, u.n, u.ptr, i.ptr, w.ptr if w else None, t.ptr if t else None))

    def reserve_ids(self, users=(), items=()):
        """Make the catalogue hold these ids (all integers or all strings, like the
        dataset's) even without interactions."""
        with self._changing("Dataset.reserve_ids") as p:
            self._reserve_ids(p, users, items)
        return self

    @staticmethod
    def _reserve_ids(p, users, items):
        users, items = _arrays.materialize(users), _arrays.materialize(items)
        kinds = {_arrays.id_kind(v, what) for v, what in ((users, "users"), (items, "items"))
                 if len(v)}
        if len(kinds) > 1:
            raise TypeError("users and items must both be integer ids or both string ids")
        if kinds == {"str"}:
            u = _arrays.to_c_strings(users, "users")
            i = _arrays.to_c_strings(items, "items")
            fn = lib.recint_dataset_reserve_ids_str
        else:
            u = _arrays.to_c(users, ctypes.c_int64, "users")
            i = _arrays.to_c(items, ctypes.c_int64, "items")
            fn = lib.recint_dataset_reserve_ids
        _errors.check(fn(p, u.n, u.ptr, i.n, i.ptr))

    @classmethod
    def with_catalogue(cls, of, **params):
        """Empty dataset whose users and items start as those of `of` (a Dataset or
        a fitted Model) with the same indices, so data added or loaded into it lines
        up with `of`; unknown ids are appended."""
        users, items = of.users._map(), of.items._map()
        cfg = _config.make(params)
        ptr = DatasetP()
        _errors.check(lib.recint_dataset_new_with_catalogue(ctypes.byref(ptr), users, items,
                                                            _config.ptr_of(cfg)))
        return cls(_ptr=ptr)

    @classmethod
    def load(cls, path, **params):
        """Read delimited text (keys: delimiter, columns, header, ids, duplicates).
        A missing file raises RecintIOError (an OSError); a bad line FormatError
        with "path:line: reason"."""
        cfg = _config.make(params)
        ds = cls(_ptr=cls._new_ptr(cfg))
        _errors.check(lib.recint_dataset_load(ds._p, fspath_bytes(path), _config.ptr_of(cfg)))
        return ds

    @classmethod
    def from_text(cls, text, name="<text>", **params):
        """Like load() from a str or bytes holding the file's contents."""
        data = text.encode() if isinstance(text, str) else bytes(text)
        cfg = _config.make(params)
        ds = cls(_ptr=cls._new_ptr(cfg))
        _errors.check(lib.recint_dataset_load_buffer(ds._p, data, len(data), name.encode(),
                                                     _config.ptr_of(cfg)))
        return ds

    @staticmethod
    def _new_ptr(cfg):
        ptr = DatasetP()
        _errors.check(lib.recint_dataset_new(ctypes.byref(ptr), _config.ptr_of(cfg)))
        return ptr

    @classmethod
    def synthetic(cls, **params):
        """Planted-interest synthetic data (keys syn_*, seed, threads)."""
        cfg = _config.make(params)
        ptr = DatasetP()
        _errors.check(lib.recint_dataset_synthetic(ctypes.byref(ptr), _config.ptr_of(cfg), None))
        return cls(_ptr=ptr)

    @classmethod
    def synthetic_with_features(cls, **params):
        """(dataset, item_features) of the synthetic generator."""
        from ._features import Features
        cfg = _config.make(params)
        ptr, feats = DatasetP(), FeaturesP()
        _errors.check(lib.recint_dataset_synthetic(ctypes.byref(ptr), _config.ptr_of(cfg),
                                                   ctypes.byref(feats)))
        ds = cls(_ptr=ptr)  # owns ptr before anything else can fail
        return ds, Features(_ptr=feats)

    def save(self, path):
        """Write tab-separated text that load() reads back to an equal dataset."""
        _errors.check(lib.recint_dataset_save(self._p, fspath_bytes(path)))

    # ---------------------------------------------------------- derived datasets

    def filter(self, **params):
        """New dataset with the same catalogue keeping the interactions that pass
        (keys min_weight, implicit, min_user_interactions, min_item_interactions)."""
        cfg = _config.make(params)
        out = DatasetP()
        _errors.check(lib.recint_dataset_filter(ctypes.byref(out), self._p, _config.ptr_of(cfg)))
        return Dataset(_ptr=out)

    def reweight(self, weighting="bm25", **params):
        """New dataset with the same rows, weights rewritten for count data:
        weighting none | log1p | bm25 | tfidf (implicit's bm25_weight and
        tfidf_weight; keys bm25_k1, bm25_b). Statistics come from this dataset,
        so reweight before splitting."""
        cfg = _config.make(dict(params, weighting=weighting))
        out = DatasetP()
        _errors.check(lib.recint_dataset_reweight(ctypes.byref(out), self._p, _config.ptr_of(cfg)))
        return Dataset(_ptr=out)

    def split(self, spec=None, seed=None, valid=False):
        """(train, test), or (train, valid, test) with valid=True. spec is
        "random:F", "temporal:F" or "loo"; spec and seed default to the library's
        `split` and `seed` parameters."""
        spec = _config.default("split") if spec is None else spec
        seed = int(_config.default("seed")) if seed is None else seed
        seed = scalar_u64(seed, "seed")
        train, val, test = DatasetP(), DatasetP(), DatasetP()
        rc = lib.recint_dataset_split(self._p, str(spec).encode(), seed, ctypes.byref(train),
                                      ctypes.byref(val) if valid else None, ctypes.byref(test))
        _errors.check(rc)
        parts = [Dataset(_ptr=train)]
        if valid:
            parts.append(Dataset(_ptr=val))
        parts.append(Dataset(_ptr=test))
        return tuple(parts)

    # --------------------------------------------------------------------- reads

    @property
    def n_users(self):
        return lib.recint_dataset_n_users(self._p)

    @property
    def n_items(self):
        return lib.recint_dataset_n_items(self._p)

    @property
    def n_interactions(self):
        return lib.recint_dataset_n_interactions(self._p)

    def __len__(self):
        return self.n_interactions

    def user_index(self, user_id):
        return self.users.index(user_id)

    def user_id(self, index):
        return self.users.id(index)

    def item_index(self, item_id):
        return self.items.index(item_id)

    def item_id(self, index):
        return self.items.id(index)

    def user_ids(self):
        return self.users.ids()

    def item_ids(self):
        return self.items.ids()

    def _view_anchor(self):
        anchor = self._anchor() if self._anchor is not None else None
        if anchor is None:
            anchor = Reader(self._own, _VIEWS)
            self._anchor = weakref.ref(anchor)
        return anchor

    def csr(self, copy=True, timestamps=False):
        """CSR by user: (indptr, indices, weights[, timestamps]); row u holds
        indptr[u]..indptr[u+1]-1 with items ascending. numpy arrays (uint64,
        uint32, float32, int64) or lists without numpy. copy=False returns
        read-only views that keep the dataset's memory alive (numpy only)."""
        p = self._p
        ip, ix = ctypes.POINTER(ctypes.c_uint64)(), ctypes.POINTER(ctypes.c_uint32)()
        w, ts = ctypes.POINTER(ctypes.c_float)(), ctypes.POINTER(ctypes.c_int64)()
        _errors.check(lib.recint_dataset_csr(p, ctypes.byref(ip), ctypes.byref(ix), ctypes.byref(w),
                                             ctypes.byref(ts)))
        nnz = self.n_interactions
        anchor = None if copy else self._view_anchor()
        out = [_arrays.view(ip, self.n_users + 1, ctypes.c_uint64, anchor, copy),
               _arrays.view(ix, nnz, ctypes.c_uint32, anchor, copy),
               _arrays.view(w, nnz, ctypes.c_float, anchor, copy)]
        if timestamps:
            out.append(_arrays.view(ts, nnz, ctypes.c_int64, anchor, copy))
        return tuple(out)

    def csc(self, copy=True):
        """CSC by item: (indptr, users, weights), users ascending in each column."""
        p = self._p
        ip, ix = ctypes.POINTER(ctypes.c_uint64)(), ctypes.POINTER(ctypes.c_uint32)()
        w = ctypes.POINTER(ctypes.c_float)()
        _errors.check(lib.recint_dataset_csc(p, ctypes.byref(ip), ctypes.byref(ix), ctypes.byref(w)))
        nnz = self.n_interactions
        anchor = None if copy else self._view_anchor()
        return (_arrays.view(ip, self.n_items + 1, ctypes.c_uint64, anchor, copy),
                _arrays.view(ix, nnz, ctypes.c_uint32, anchor, copy),
                _arrays.view(w, nnz, ctypes.c_float, anchor, copy))

    def __repr__(self):
        if self.closed:
            return "Dataset(<closed>)"
        return "Dataset(n_users=%d, n_items=%d, n_interactions=%d)" % (
            self.n_users, self.n_items, self.n_interactions)
