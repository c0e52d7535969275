"""The conversion paths: zero-copy where promised, numpy really absent when blocked."""

import array
import ctypes
import sys
import unittest

import recint
from recint import _arrays
from support import NUMPY_BLOCKED, np


def address(conv):
    return ctypes.cast(conv.ptr, ctypes.c_void_p).value


class NumpyPresence(unittest.TestCase):
    @unittest.skipUnless(NUMPY_BLOCKED, "only when numpy is blocked")
    def test_numpy_is_really_absent(self):
        self.assertIsNone(sys.modules.get("numpy"))
        self.assertFalse(recint.HAVE_NUMPY)
        self.assertIsNone(_arrays.np)
        with self.assertRaises(ImportError):
            import numpy  # noqa: F401

    @unittest.skipIf(NUMPY_BLOCKED, "only with numpy")
    def test_numpy_is_used(self):
        self.assertTrue(recint.HAVE_NUMPY)
        self.assertIs(_arrays.np, np)

    def test_output_types(self):
        ds = recint.Dataset.from_arrays([1, 2], [3, 3])
        indptr = ds.csr()[0]
        if NUMPY_BLOCKED:
            self.assertIsInstance(indptr, list)
        else:
            self.assertIsInstance(indptr, np.ndarray)
            self.assertEqual(indptr.dtype, np.uint64)


@unittest.skipIf(NUMPY_BLOCKED, "numpy paths")
class NumpyInputs(unittest.TestCase):
    def test_matching_array_is_passed_without_copy(self):
        a = np.arange(10, dtype=np.int64)
        conv = _arrays.to_c(a, ctypes.c_int64)
        self.assertIs(conv.keep, a)
        self.assertEqual(address(conv), a.ctypes.data)

    def test_other_dtype_or_layout_is_converted_once(self):
        a = np.arange(10, dtype=np.int32)
        conv = _arrays.to_c(a, ctypes.c_int64)
        self.assertEqual(conv.keep.dtype, np.int64)
        self.assertEqual(conv.ptr[9], 9)
        strided = np.arange(20, dtype=np.int64)[::2]
        conv = _arrays.to_c(strided, ctypes.c_int64)
        self.assertTrue(conv.keep.flags.c_contiguous)
        self.assertEqual([conv.ptr[i] for i in range(3)], [0, 2, 4])

    def test_range_and_type_checks(self):
        with self.assertRaises(recint.RangeError):
            _arrays.to_c(np.array([-1, 2]), ctypes.c_uint32, "users")
        with self.assertRaises(TypeError):
            _arrays.to_c(np.array([1.5]), ctypes.c_int64, "users")
        with self.assertRaises(ValueError):
            _arrays.to_c(np.zeros((2, 2), dtype=np.int64), ctypes.c_int64, "users")

    def test_buffer_inputs_through_numpy_are_zero_copy(self):
        a = array.array("q", [4, 5, 6])
        conv = _arrays.to_c(a, ctypes.c_int64)
        self.assertEqual(address(conv), a.buffer_info()[0])


@unittest.skipUnless(NUMPY_BLOCKED, "pure Python paths")
class PythonInputs(unittest.TestCase):
    def test_array_array_of_the_right_type_is_zero_copy(self):
        a = array.array("q", [4, 5, 6])
        conv = _arrays.to_c(a, ctypes.c_int64)
        self.assertEqual(address(conv), a.buffer_info()[0])
        f = array.array("f", [0.5])
        self.assertEqual(address(_arrays.to_c(f, ctypes.c_float)), f.buffer_info()[0])

    def test_writable_memoryview_is_zero_copy_read_only_is_copied(self):
        a = array.array("I", [1, 2, 3])
        conv = _arrays.to_c(memoryview(a), ctypes.c_uint32)
        self.assertEqual(address(conv), a.buffer_info()[0])
        ro = memoryview(bytes(a)).cast("I")
        conv = _arrays.to_c(ro, ctypes.c_uint32)
        self.assertEqual([conv.ptr[i] for i in range(3)], [1, 2, 3])

    def test_other_types_are_converted(self):
        conv = _arrays.to_c(array.array("i", [7, 8]), ctypes.c_int64)  # int32 -> int64
        self.assertEqual([conv.ptr[0], conv.ptr[1]], [7, 8])
        conv = _arrays.to_c(range(3), ctypes.c_uint32)
        self.assertEqual([conv.ptr[i] for i in range(3)], [0, 1, 2])
        conv = _arrays.to_c([1, 2.5], ctypes.c_float)
        self.assertEqual([conv.ptr[0], conv.ptr[1]], [1.0, 2.5])

    def test_range_and_type_checks(self):
        with self.assertRaises(recint.RangeError) as cm:
            _arrays.to_c([3, -1], ctypes.c_uint32, "users")
        self.assertIn("users: value -1", str(cm.exception))
        with self.assertRaises(TypeError):
            _arrays.to_c([1.5], ctypes.c_int64, "users")
        with self.assertRaises(TypeError):
            _arrays.to_c(5, ctypes.c_int64, "users")

    def test_score_returns_lists_of_lists(self):
        model = recint.Model("pop").fit(recint.Dataset.from_arrays([1, 1, 2], [5, 6, 6]))
        self.assertEqual(model.score(array.array("I", [0, 1])), [[1.0, 2.0], [1.0, 2.0]])
