"""Shared pieces of the binding tests."""

import array
import os
import tempfile
import unittest

import recint

NUMPY_BLOCKED = os.environ.get("RECINT_TEST_BLOCK_NUMPY") == "1"
if NUMPY_BLOCKED:
    np = None
else:
    import numpy as np


def tolist(values):
    """numpy arrays and nested lists alike as plain lists (for comparisons)."""
    if np is not None and isinstance(values, np.ndarray):
        return values.tolist()
    if isinstance(values, (list, tuple)):
        return [tolist(v) if isinstance(v, (list, tuple)) or _is_np(v) else v for v in values]
    return list(values)


def _is_np(v):
    return np is not None and isinstance(v, np.ndarray)


def input_variants(values, typecode):
    """The same 1-D data in every input form the binding must accept in this run:
    list, tuple, array.array and memoryview, plus numpy arrays when numpy is
    available. Returns [(label, sequence)]."""
    out = [("list", list(values)), ("tuple", tuple(values)),
           ("array.array", array.array(typecode, values)),
           ("memoryview", memoryview(array.array(typecode, values)))]
    if np is not None:
        dtype = {"q": np.int64, "f": np.float32, "d": np.float64, "I": np.uint32}[typecode]
        out.append(("numpy", np.array(values, dtype=dtype)))
    return out


# The hand example shared by dataset, model and evaluation tests.
#   user 1: items 10, 20, 30, 40 (timestamps 1..4)
#   user 2: items 10, 40
#   user 3: items 10, 20, 40, 50
#   user 4: items 60, 50
# temporal:0.2 puts each user's last item in test: (n + 4) / 5 = 1 for n <= 6.
HAND_ROWS = [
    (1, 10, 1), (1, 20, 2), (1, 30, 3), (1, 40, 4),
    (2, 10, 1), (2, 40, 2),
    (3, 10, 1), (3, 20, 2), (3, 40, 3), (3, 50, 4),
    (4, 60, 1), (4, 50, 2),
]


def hand_dataset():
    users = [r[0] for r in HAND_ROWS]
    items = [r[1] for r in HAND_ROWS]
    stamps = [r[2] for r in HAND_ROWS]
    return recint.Dataset.from_arrays(users, items, timestamps=stamps)


def datasets_file(relative):
    """Full path of a MovieLens file under $RECINT_DATASETS, or None."""
    root = os.environ.get("RECINT_DATASETS")
    if not root:
        return None
    path = os.path.join(root, relative)
    return path if os.path.exists(path) else None


class TmpDirCase(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="recint-py-")
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp, name)

