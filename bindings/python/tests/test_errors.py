import os
import subprocess
import sys
import unittest

import recint
from recint import _errors


class Hierarchy(unittest.TestCase):
    def test_codes_map_to_classes_with_python_bases(self):
        table = [
            (-1, recint.InvalidArgumentError, ValueError),
            (-2, recint.OutOfMemoryError, MemoryError),
            (-3, recint.RecintIOError, OSError),
            (-4, recint.FormatError, recint.RecintError),
            (-5, recint.RangeError, IndexError),
            (-6, recint.StateError, recint.RecintError),
            (-7, recint.CanceledError, recint.RecintError),
            (-8, recint.UnsupportedError, recint.RecintError),
            (-9, recint.NotFoundError, KeyError),
        ]
        for code, cls, base in table:
            with self.subTest(code=code):
                err = _errors.error_for(code, "message %d" % code)
                self.assertIs(type(err), cls)
                self.assertIsInstance(err, base)
                self.assertIsInstance(err, recint.RecintError)
                self.assertEqual(err.code, code)
                self.assertEqual(str(err), "message %d" % code)
                self.assertTrue(err.code_name.startswith("RECINT_E"))
        self.assertIs(type(_errors.error_for(-99, "x")), recint.RecintError)

    def test_message_is_the_c_last_error(self):
        with self.assertRaises(recint.RecintError) as cm:
            recint.Config(k=0)
        self.assertEqual(str(cm.exception), "parameter k: 0 is outside [1, 100000]")
        self.assertEqual(cm.exception.message, str(cm.exception))

    def test_bad_path_and_bad_index(self):
        with self.assertRaises(OSError):
            recint.Dataset.load("/nonexistent/dir/ratings.tsv")
        ds = recint.Dataset.from_arrays([1], [2])
        with self.assertRaises(IndexError):
            ds.item_id(1)


class LibrarySearch(unittest.TestCase):
    def run_python(self, code, library):
        env = dict(os.environ, RECINT_LIBRARY=library)
        return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, timeout=60)

    def test_missing_library_lists_the_places_tried(self):
        proc = self.run_python("import recint", "/nonexistent/librecint.so")
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("LibraryNotFound", proc.stderr)
        self.assertIn("$RECINT_LIBRARY: /nonexistent/librecint.so (does not exist)", proc.stderr)

    def test_a_library_that_is_not_librecint(self):
        proc = self.run_python("import recint", "libm.so.6")
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("not librecint", proc.stderr)

    def test_functions_missing_from_the_library_raise_when_called(self):
        from recint import _lib
        stub = _lib._missing("recint_future_call", "/x/librecint.so")
        with self.assertRaises(recint.UnsupportedError) as cm:
            stub(1, 2)
        self.assertIn("recint_future_call is not exported by /x/librecint.so", str(cm.exception))
        self.assertEqual(_lib.lib.missing, [], "the loaded library lacks declared functions")

    def test_loaded_library_is_named(self):
        self.assertTrue(os.path.exists(recint.library_path) or "/" not in recint.library_path)
        self.assertEqual(recint.__version__.split(".")[0], str(recint.ABI_MAJOR))
