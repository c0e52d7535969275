"""recint_features: sparse or dense feature matrices (rows x cols)."""

import ctypes
import os

from . import _arrays, _config, _errors
from ._handle import Handle
from ._ids import IdLookup, scalar_u32
from ._lib import FeaturesP, IdMapP, lib


def _new(fn, *args):
    ptr = FeaturesP()
    _errors.check(fn(ctypes.byref(ptr), *args))
    return Features(_ptr=ptr)


def _rows_map(rows, required):
    """The C id map of `rows`: a Dataset's or Model's .users / .items (or None when
    not required)."""
    if rows is None:
        if required:
            raise TypeError("rows must be the .users or .items of a Dataset or Model")
        return None
    if not isinstance(rows, IdLookup):
        raise TypeError("rows must be the .users or .items of a Dataset or Model, got %r"
                        % (rows,))
    return rows._map()


def _names_of(map_ptr):
    """The feature names of a string id map the caller owns, which is freed here."""
    try:
        out = ctypes.c_char_p()
        names = []
        for i in range(lib.recint_idmap_size(map_ptr)):
            _errors.check(lib.recint_idmap_id_str(map_ptr, i, ctypes.byref(out)))
            names.append(_arrays.decode_id(out.value))
        return names
    finally:
        lib.recint_idmap_free(map_ptr)


def _sparse(fn, args, rows, params):
    cfg = _config.make(params)
    ptr, names = FeaturesP(), IdMapP()
    _errors.check(fn(ctypes.byref(ptr), ctypes.byref(names), *args, _rows_map(rows, True),
                     _config.ptr_of(cfg)))
    f = Features(_ptr=ptr)
    f.names = _names_of(names)
    return f


class Features(Handle):
    """A feature matrix; the library copies every input, so the Python sources may
    change or go away after construction."""

    _free_fn = staticmethod(lib.recint_features_free)

    def __init__(self, _ptr):
        super().__init__(_ptr)
        self.names = None  # column names, for matrices loaded from sparse text

    # ------------------------------------------------------------------ files

    @classmethod
    def load_sparse(cls, path, rows, **params):
        """Sparse features from text lines "row<TAB>feature[:weight] ..." (docs/
        features.md). rows is the catalogue the row ids belong to: train.items,
        train.users or a model's; row r of the result describes index r there.
        .names lists the column (feature) names in first-seen order. Key:
        feature_unknown_ids ("skip", the default, or "error"). A bad line raises
        FormatError with "path:line: reason"."""
        return _sparse(lib.recint_features_load_sparse, (os.fsencode(os.fspath(path)),),
                       rows, params)

    @classmethod
    def sparse_from_text(cls, text, rows, name="<text>", **params):
        """Like load_sparse() from a str or bytes holding the file's contents."""
        data = text.encode() if isinstance(text, str) else bytes(text)
        return _sparse(lib.recint_features_load_sparse_buffer,
                       (data, len(data), name.encode()), rows, params)

    @classmethod
    def load_dense(cls, path, rows=None, cols=None):
        """Dense features from a .npy file (2-D, float32 or float64, C order) or,
        for any other name, raw little-endian float32 with `cols` values per row.
        With rows (as in load_sparse) the file must hold one row per id there."""
        p = os.fsencode(os.fspath(path))
        m = _rows_map(rows, False)
        if p.endswith(b".npy"):
            if cols is not None:
                raise TypeError("cols applies to raw float32 files, not .npy")
            return _new(lib.recint_features_load_npy, p, m)
        if cols is None:
            raise TypeError("a raw float32 file needs cols (values per row)")
        return _new(lib.recint_features_load_raw, p, scalar_u32(cols, "cols"), m)

    @classmethod
    def from_sparse(cls, rows, cols, indptr, indices, weights=None):
        ip = _arrays.to_c(indptr, ctypes.c_uint64, "indptr")
        ix = _arrays.to_c(indices, ctypes.c_uint32, "indices")
        w = _arrays.to_c(weights, ctypes.c_float, "weights") if weights is not None else None
        rows, cols = scalar_u32(rows, "rows"), scalar_u32(cols, "cols")
        if ip.n != rows + 1:
            raise ValueError("indptr has %d values, expected rows + 1 = %d" % (ip.n, rows + 1))
        if w is not None and w.n != ix.n:
            raise ValueError("weights has %d values but indices has %d" % (w.n, ix.n))
        end = int(ip.ptr[ip.n - 1]) if ip.n else 0
        if ix.n < end:  # C reads indices[0:indptr[rows]] and cannot know their length
            raise ValueError("indices has %d values but indptr ends at %d" % (ix.n, end))
        return _new(lib.recint_features_new_sparse, rows, cols, ip.ptr, ix.ptr,
                    w.ptr if w else None)

    @classmethod
    def from_dense(cls, matrix):
        """From a 2-D numpy array (row-strided float32 is passed without a copy) or,
        without numpy, a sequence of equal-length rows."""
        np = _arrays.np
        if np is not None:
            a = np.asarray(matrix)
            if a.ndim != 2:
                raise ValueError("expected a 2-D matrix, got shape %s" % (a.shape,))
            if (a.dtype != np.float32 or a.strides[1] != 4 or a.strides[0] < 4 * a.shape[1]
                    or a.strides[0] % 4):
                a = np.ascontiguousarray(a, dtype=np.float32)
            rows, cols = a.shape
            stride = a.strides[0] // 4 if rows > 1 else cols
            ptr = a.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
            return _new(lib.recint_features_new_dense, scalar_u32(rows, "rows"),
                        scalar_u32(cols, "cols"), ptr, stride)
        rows = [list(r) for r in matrix]
        cols = len(rows[0]) if rows else 0
        if any(len(r) != cols for r in rows):
            raise ValueError("rows of a dense matrix must have equal lengths")
        flat = _arrays.to_c([v for r in rows for v in r], ctypes.c_float, "matrix")
        return _new(lib.recint_features_new_dense, scalar_u32(len(rows), "rows"),
                    scalar_u32(cols, "cols"), flat.ptr, cols)

    @classmethod
    def identity(cls, n):
        return _new(lib.recint_features_identity, scalar_u32(n, "n"))

    @classmethod
    def hstack(cls, parts):
        """[parts[0] | parts[1] | ...]; the parts are copied and stay usable."""
        parts = list(parts)
        arr = (FeaturesP * len(parts))(*[p._p for p in parts])
        return _new(lib.recint_features_hstack, arr, len(parts))

    @property
    def rows(self):
        return lib.recint_features_rows(self._p)

    @property
    def cols(self):
        return lib.recint_features_cols(self._p)

    @property
    def shape(self):
        return (self.rows, self.cols)

    def row(self, r):
        """Row r as a dense vector (numpy float32 array or list)."""
        p = self._p
        cols = lib.recint_features_cols(p)
        buf, ptr = _arrays.alloc(ctypes.c_float, max(cols, 1))
        _errors.check(lib.recint_features_row_dense(p, scalar_u32(r, "row"), ptr))
        return _arrays.finish(buf, cols)

    def to_dense(self):
        """The whole matrix, dense (2-D numpy array or list of lists)."""
        rows = [self.row(r) for r in range(self.rows)]
        np = _arrays.np
        if np is not None:
            return np.array(rows, dtype=np.float32).reshape(len(rows), self.cols)
        return rows

    def __repr__(self):
        return "Features(<closed>)" if self.closed else "Features(%d x %d)" % self.shape
