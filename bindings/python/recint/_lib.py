"""Locating librecint and declaring its C functions.

This module holds the ONE prototype table of the binding: every public function
of include/recint.h with its result and argument types.  Nothing else in the
package calls ctypes.CDLL or sets argtypes.

Search order of the shared library (the first that loads wins):
  1. $RECINT_LIBRARY (when set, it is the only place tried);
  2. build trees next to the package: <checkout>/build/librecint.so, then
     <checkout>/build-*/librecint.so in name order;
  3. ctypes.util.find_library('recint'), then the soname 'librecint.so.0'.
"""

import ctypes
import ctypes.util
import glob
import os

from . import _constants

# The major version of the header the constants were generated from: the binding
# was written against it, and the soname carries it too.
ABI_MAJOR = _constants.VERSION_MAJOR
SONAME = "librecint.so.%d" % ABI_MAJOR

# Opaque handle types: distinct pointer types so that ctypes refuses a dataset
# where a model is expected.
class _Config(ctypes.Structure):
    pass


class _IdMap(ctypes.Structure):
    pass


class _Dataset(ctypes.Structure):
    pass


class _Features(ctypes.Structure):
    pass


class _Model(ctypes.Structure):
    pass


class _Trainer(ctypes.Structure):
    pass


class _Filter(ctypes.Structure):
    pass


ConfigP = ctypes.POINTER(_Config)
IdMapP = ctypes.POINTER(_IdMap)
DatasetP = ctypes.POINTER(_Dataset)
FeaturesP = ctypes.POINTER(_Features)
ModelP = ctypes.POINTER(_Model)
TrainerP = ctypes.POINTER(_Trainer)
FilterP = ctypes.POINTER(_Filter)


class _Explorer(ctypes.Structure):
    pass


ExplorerP = ctypes.POINTER(_Explorer)

c_int, c_double, c_float = ctypes.c_int, ctypes.c_double, ctypes.c_float
c_size, c_char_p, c_void_p = ctypes.c_size_t, ctypes.c_char_p, ctypes.c_void_p
c_u32, c_u64, c_i64 = ctypes.c_uint32, ctypes.c_uint64, ctypes.c_int64
P = ctypes.POINTER

# int (*)(void *ctx, uint32_t step, uint32_t steps, double loss)
PROGRESS_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_u32, c_u32, c_double)

# (name, restype, argtypes) for every public function of recint.h.
PROTOTYPES = [
    # version and errors
    ("recint_version", c_char_p, []),
    ("recint_version_number", c_int, []),
    ("recint_strerror", c_char_p, [c_int]),
    ("recint_last_error", c_char_p, []),
    # configuration
    ("recint_config_new", c_int, [P(ConfigP)]),
    ("recint_config_copy", c_int, [P(ConfigP), ConfigP]),
    ("recint_config_free", None, [ConfigP]),
    ("recint_config_set", c_int, [ConfigP, c_char_p, c_char_p]),
    ("recint_config_set_pair", c_int, [ConfigP, c_char_p]),
    ("recint_config_get", c_int, [ConfigP, c_char_p, c_char_p, c_size]),
    ("recint_config_is_set", c_int, [ConfigP, c_char_p]),
    ("recint_config_count", c_size, []),
    ("recint_config_describe", c_char_p, [c_size, c_int]),
    # id maps
    ("recint_idmap_size", c_u32, [IdMapP]),
    ("recint_idmap_kind", c_int, [IdMapP]),
    ("recint_idmap_index", c_int, [IdMapP, c_i64, P(c_u32)]),
    ("recint_idmap_index_str", c_int, [IdMapP, c_char_p, P(c_u32)]),
    ("recint_idmap_id", c_int, [IdMapP, c_u32, P(c_i64)]),
    ("recint_idmap_id_str", c_int, [IdMapP, c_u32, P(c_char_p)]),
    # datasets
    ("recint_dataset_new", c_int, [P(DatasetP), ConfigP]),
    ("recint_dataset_free", None, [DatasetP]),
    ("recint_dataset_add", c_int, [DatasetP, c_size, P(c_i64), P(c_i64), P(c_float), P(c_i64)]),
    ("recint_dataset_add_str", c_int,
     [DatasetP, c_size, P(c_char_p), P(c_char_p), P(c_float), P(c_i64)]),
    ("recint_dataset_new_with_catalogue", c_int, [P(DatasetP), IdMapP, IdMapP, ConfigP]),
    ("recint_dataset_reserve_ids", c_int, [DatasetP, c_size, P(c_i64), c_size, P(c_i64)]),
    ("recint_dataset_reserve_ids_str", c_int,
     [DatasetP, c_size, P(c_char_p), c_size, P(c_char_p)]),
    ("recint_dataset_load", c_int, [DatasetP, c_char_p, ConfigP]),
    ("recint_dataset_load_buffer", c_int, [DatasetP, c_char_p, c_size, c_char_p, ConfigP]),
    ("recint_dataset_save", c_int, [DatasetP, c_char_p]),
    ("recint_dataset_n_users", c_u32, [DatasetP]),
    ("recint_dataset_n_items", c_u32, [DatasetP]),
    ("recint_dataset_n_interactions", c_u64, [DatasetP]),
    ("recint_dataset_users", IdMapP, [DatasetP]),
    ("recint_dataset_items", IdMapP, [DatasetP]),
    ("recint_dataset_csr", c_int,
     [DatasetP, P(P(c_u64)), P(P(c_u32)), P(P(c_float)), P(P(c_i64))]),
    ("recint_dataset_csc", c_int, [DatasetP, P(P(c_u64)), P(P(c_u32)), P(P(c_float))]),
    ("recint_dataset_filter", c_int, [P(DatasetP), DatasetP, ConfigP]),
    ("recint_dataset_reweight", c_int, [P(DatasetP), DatasetP, ConfigP]),
    ("recint_dataset_split", c_int,
     [DatasetP, c_char_p, c_u64, P(DatasetP), P(DatasetP), P(DatasetP)]),
    ("recint_dataset_synthetic", c_int, [P(DatasetP), ConfigP, P(FeaturesP)]),
    # feature matrices
    ("recint_features_new_sparse", c_int,
     [P(FeaturesP), c_u32, c_u32, P(c_u64), P(c_u32), P(c_float)]),
    ("recint_features_new_dense", c_int, [P(FeaturesP), c_u32, c_u32, P(c_float), c_size]),
    ("recint_features_identity", c_int, [P(FeaturesP), c_u32]),
    ("recint_features_hstack", c_int, [P(FeaturesP), P(FeaturesP), c_size]),
    ("recint_features_free", None, [FeaturesP]),
    ("recint_features_rows", c_u32, [FeaturesP]),
    ("recint_features_cols", c_u32, [FeaturesP]),
    ("recint_features_row_dense", c_int, [FeaturesP, c_u32, P(c_float)]),
    # models
    ("recint_model_new", c_int, [P(ModelP), c_char_p, ConfigP]),
    ("recint_model_free", None, [ModelP]),
    ("recint_model_kinds", c_char_p, []),
    ("recint_model_kind", c_char_p, [ModelP]),
    ("recint_model_n_users", c_u32, [ModelP]),
    ("recint_model_n_items", c_u32, [ModelP]),
    ("recint_model_users", IdMapP, [ModelP]),
    ("recint_model_items", IdMapP, [ModelP]),
    ("recint_model_score", c_int, [ModelP, P(c_u32), c_size, P(c_u32), c_size, P(c_float)]),
    ("recint_model_recommend", c_int, [ModelP, c_u32, c_u32, P(c_u32), P(c_float), P(c_u32)]),
    ("recint_model_dim", c_u32, [ModelP]),
    ("recint_model_factors", c_int,
     [ModelP, c_u32, c_u32, c_u32, P(c_float), P(c_float), P(c_float)]),
    ("recint_model_new_factors", c_int,
     [P(ModelP), c_u32, c_u32, c_u32, P(c_float), P(c_float), P(c_float), ConfigP]),
    # filters and serving
    ("recint_filter_new", c_int, [P(FilterP), c_u32]),
    ("recint_filter_free", None, [FilterP]),
    ("recint_filter_allow", c_int, [FilterP, P(c_u32), c_size]),
    ("recint_filter_block", c_int, [FilterP, P(c_u32), c_size]),
    ("recint_filter_clear", None, [FilterP]),
    ("recint_filter_include_seen", c_int, [FilterP, c_int]),
    ("recint_model_recommend_filtered", c_int,
     [ModelP, c_u32, c_u32, FilterP, P(c_u32), P(c_float), P(c_u32)]),
    ("recint_model_recommend_batch", c_int,
     [ModelP, P(c_u32), c_size, c_u32, FilterP, ConfigP, P(c_u32), P(c_float), P(c_u32)]),
    ("recint_model_recommend_vector", c_int,
     [ModelP, P(c_float), c_u32, FilterP, P(c_u32), c_size, P(c_u32), P(c_float), P(c_u32)]),
    ("recint_model_similar_items", c_int,
     [ModelP, c_u32, c_u32, FilterP, P(c_u32), P(c_float), P(c_u32)]),
    ("recint_model_fold_in", c_int, [ModelP, P(c_u32), P(c_float), c_size, P(c_float)]),
    ("recint_model_feature_vector", c_int,
     [ModelP, c_int, P(c_u32), P(c_float), c_size, P(c_float), P(c_float)]),
    ("recint_model_explain", c_int,
     [ModelP, c_u32, c_u32, c_u32, P(c_u32), P(c_float), P(c_u32), P(c_float)]),
    ("recint_model_save", c_int, [ModelP, c_char_p]),
    ("recint_model_load", c_int, [P(ModelP), c_char_p]),
    ("recint_model_load_buffer", c_int, [P(ModelP), c_void_p, c_size]),
    ("recint_model_load_ex", c_int, [P(ModelP), c_char_p, ConfigP]),
    ("recint_model_load_buffer_ex", c_int, [P(ModelP), c_void_p, c_size, ConfigP]),
    # trainer
    ("recint_trainer_new", c_int, [P(TrainerP), ModelP, ConfigP]),
    ("recint_trainer_free", None, [TrainerP]),
    ("recint_trainer_fit", c_int, [TrainerP, DatasetP, DatasetP, PROGRESS_FN, c_void_p]),
    # evaluation
    ("recint_metric_name", c_char_p, [c_int]),
    ("recint_evaluate", c_int,
     [ModelP, DatasetP, DatasetP, c_u32, ConfigP, P(c_double), c_size]),
    ("recint_evaluate_next", c_int,
     [ModelP, DatasetP, DatasetP, c_u32, ConfigP, P(c_double), c_size]),
    ("recint_model_partial_fit_users", c_int, [ModelP, DatasetP]),
    ("recint_model_partial_fit_items", c_int, [ModelP, DatasetP]),
    # hybrid kind: feature matrices and partial fits
    ("recint_model_set_features", c_int, [ModelP, FeaturesP, FeaturesP]),
    ("recint_trainer_partial_fit", c_int, [TrainerP, DatasetP, PROGRESS_FN, c_void_p]),
    # sequential
    ("recint_model_sequence_vector", c_int, [ModelP, P(c_u32), c_size, P(c_float)]),
    # feature files
    ("recint_features_load_sparse", c_int,
     [P(FeaturesP), P(IdMapP), c_char_p, IdMapP, ConfigP]),
    ("recint_features_load_sparse_buffer", c_int,
     [P(FeaturesP), P(IdMapP), c_char_p, c_size, c_char_p, IdMapP, ConfigP]),
    ("recint_features_load_npy", c_int, [P(FeaturesP), c_char_p, IdMapP]),
    ("recint_features_load_raw", c_int, [P(FeaturesP), c_char_p, c_u32, IdMapP]),
    ("recint_idmap_free", None, [IdMapP]),
    # exploration
    ("recint_explorer_new", c_int, [P(ExplorerP), ModelP, ConfigP]),
    ("recint_explorer_free", None, [ExplorerP]),
    ("recint_explorer_recommend", c_int,
     [ExplorerP, c_u32, c_u32, P(c_u32), P(c_double), P(c_u32)]),
    ("recint_explorer_observe", c_int, [ExplorerP, c_u32, c_u32, c_float]),
    ("recint_explorer_set_logging", c_int, [ExplorerP, c_int]),
    ("recint_explorer_log_size", c_u64, [ExplorerP]),
    ("recint_explorer_log_save", c_int, [ExplorerP, c_char_p]),
    ("recint_explorer_log_save_text", c_int, [ExplorerP, c_char_p]),
    ("recint_explorer_replay", c_int, [ExplorerP, c_char_p, P(c_u64)]),
    ("recint_explorer_evaluate", c_int, [ExplorerP, c_char_p, c_int, P(c_double), c_size]),
    ("recint_simulate", c_int, [ConfigP, P(c_double), c_size, P(c_double), c_size]),
    ("recint_simulate_ope", c_int, [ConfigP, c_char_p, P(c_double), c_size]),
]

# The macros of recint.h come from _constants.py (gen_constants.py writes it).
# These names stay defined here because the package and its users have always
# read them from _lib (_errors.py, recint._lib.EFORMAT in tests).
OK = _constants.OK
EINVAL, ENOMEM, EIO = _constants.EINVAL, _constants.ENOMEM, _constants.EIO
EFORMAT, ERANGE, ESTATE = _constants.EFORMAT, _constants.ERANGE, _constants.ESTATE
ECANCELED, EUNSUPPORTED = _constants.ECANCELED, _constants.EUNSUPPORTED
ENOTFOUND = _constants.ENOTFOUND
IDS_NONE, IDS_INT, IDS_STRING = _constants.IDS_NONE, _constants.IDS_INT, _constants.IDS_STRING
METRIC_COUNT = _constants.METRIC_COUNT

# The fields recint.params() reports, each read at its RECINT_PARAM_* index.
# owner and stability are not among them yet: adding keys to every entry is a
# change of params()'s documented result (docs/python.md).
PARAM_FIELDS = ("key", "type", "default", "range", "help", "group")
PARAM_INDEX = {name: getattr(_constants, "PARAM_" + name.upper()) for name in PARAM_FIELDS}
# The metrics each evaluation call fills (recint.h says which), in the order of
# the dicts it returns.
METRICS_TOPK = (_constants.METRIC_PRECISION, _constants.METRIC_RECALL, _constants.METRIC_NDCG,
                _constants.METRIC_MAP, _constants.METRIC_HIT_RATE, _constants.METRIC_AUC,
                _constants.METRIC_COVERAGE, _constants.METRIC_USERS)
METRICS_NEXT = (_constants.METRIC_FULL_HR, _constants.METRIC_FULL_NDCG,
                _constants.METRIC_SAMPLED_HR, _constants.METRIC_SAMPLED_NDCG,
                _constants.METRIC_USERS)


class LibraryNotFound(OSError):
    """librecint could not be loaded; the message lists every place tried."""


def _package_root():
    """The checkout holding bindings/python/recint (three levels up)."""
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", ".."))


def candidates():
    """Places to look for the library, in search order, as (label, path) pairs."""
    env = os.environ.get("RECINT_LIBRARY")
    if env:
        return [("$RECINT_LIBRARY", env)]
    root = _package_root()
    out = [("build tree", os.path.join(root, "build", "librecint.so"))]
    for path in sorted(glob.glob(os.path.join(root, "build-*", "librecint.so"))):
        out.append(("build tree", path))
    found = ctypes.util.find_library("recint")
    if found:
        out.append(("find_library('recint')", found))
    out.append(("soname", SONAME))
    return out


def _needs_asan(path):
    """True for sanitizer builds (AddressSanitizer or ThreadSanitizer), which a
    plain interpreter cannot load."""
    try:
        with open(path, "rb") as f:
            data = f.read()
        return b"libasan.so" in data or b"libtsan.so" in data
    except OSError:
        return False


def _load():
    tried = []
    for label, path in candidates():
        is_path = os.sep in path
        if is_path and not os.path.exists(path):
            tried.append("%s: %s (does not exist)" % (label, path))
            continue
        if is_path and label == "build tree" and _needs_asan(path):
            # dlopen of a sanitizer build aborts the interpreter instead of failing.
            tried.append("%s: %s (sanitizer build, skipped)" % (label, path))
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as exc:
            tried.append("%s: %s (%s)" % (label, path, exc))
            continue
        if not hasattr(lib, "recint_version_number"):
            tried.append("%s: %s (not librecint: no recint_version_number)" % (label, path))
            continue
        return lib, path, tried
    raise LibraryNotFound(
        "librecint not found; set RECINT_LIBRARY to the path of librecint.so. Tried:\n  "
        + "\n  ".join(tried))


def _missing(name, path):
    def stub(*_args):
        from ._errors import UnsupportedError
        raise UnsupportedError(
            "%s is not exported by %s (library version %s)" % (name, path, version_string()),
            EUNSUPPORTED)
    stub.__name__ = name
    return stub


class _Functions:
    """The declared C functions as attributes: lib.recint_dataset_new(...)."""

    def __init__(self, cdll, path):
        self.path = path
        self.missing = []
        for name, restype, argtypes in PROTOTYPES:
            try:
                fn = getattr(cdll, name)
            except AttributeError:
                self.missing.append(name)
                setattr(self, name, _missing(name, path))
                continue
            fn.restype = restype
            fn.argtypes = argtypes
            setattr(self, name, fn)


_cdll, path, tried_before = _load()
lib = _Functions(_cdll, path)


def version_string():
    return lib.recint_version().decode()


_number = lib.recint_version_number()
if _number // 10000 != ABI_MAJOR:
    raise ImportError(
        "%s is librecint %s (major %d) but this binding needs major %d"
        % (path, lib.recint_version().decode(), _number // 10000, ABI_MAJOR))
