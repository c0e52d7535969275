#!/usr/bin/env python3
"""Run the binding's tests: unittest discovery of test_*.py in this folder.

Environment:
  RECINT_LIBRARY           path of librecint.so (else the package's search order)
  RECINT_TEST_BLOCK_NUMPY  "1": make numpy unimportable before recint is imported,
                           so the list / array.array / memoryview paths are tested
  RECINT_DATASETS          folder holding ml-100k/ (tests needing it skip otherwise)
Exit status 0 when every test passed, 1 otherwise.
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    if os.environ.get("RECINT_TEST_BLOCK_NUMPY") == "1":
        sys.modules["numpy"] = None  # any "import numpy" now raises ImportError
    sys.path.insert(0, HERE)
    # The package next to this folder, when PYTHONPATH does not name it already.
    sys.path.append(os.path.dirname(HERE))
    import recint  # noqa: F401  (fail early, with the library search message)
    print("recint %s from %s, numpy %s" % (recint.__version__, recint.library_path,
                                           "available" if recint.HAVE_NUMPY else "blocked"))
    suite = unittest.defaultTestLoader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    if not result.wasSuccessful() or result.testsRun == 0:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
