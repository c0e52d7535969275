"""The prototype table of recint/_lib.py against the C API, so that a function
added to the library cannot be left out of the binding (docs/python.md promises
the table declares every public function)."""

import os
import re
import shutil
import subprocess
import unittest

from recint import _lib

HEADER = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                       "..", "..", "..", "include", "recint.h"))
# "RECINT_API <result> recint_name(<parameters>);" once comments are gone; a
# declaration may span lines.
DECLARATION = re.compile(r"RECINT_API\s+[^;(]*?\b(recint_\w+)\s*\(([^;]*?)\)\s*;", re.S)


def header_functions():
    """{name: number of parameters} of every RECINT_API function of recint.h."""
    with open(HEADER, encoding="utf-8") as f:
        text = re.sub(r"/\*.*?\*/", " ", f.read(), flags=re.S)
    out = {}
    for name, params in DECLARATION.findall(text):
        params = params.strip()
        out[name] = 0 if params in ("", "void") else params.count(",") + 1
    return out


def table():
    return {name: len(argtypes) for name, _restype, argtypes in _lib.PROTOTYPES}


class PrototypeTable(unittest.TestCase):
    def test_no_function_is_declared_twice(self):
        names = [entry[0] for entry in _lib.PROTOTYPES]
        self.assertEqual(sorted(set(names)), sorted(names))

    def test_table_matches_the_header(self):
        if not os.path.exists(HEADER):
            self.skipTest("%s not found (not a checkout)" % HEADER)
        declared = header_functions()
        self.assertGreater(len(declared), 100, "the header's declarations were not parsed")
        ours = table()
        self.assertEqual(sorted(set(declared) - set(ours)), [],
                         "public functions missing from recint/_lib.py PROTOTYPES")
        self.assertEqual(sorted(set(ours) - set(declared)), [],
                         "PROTOTYPES entries that recint.h does not declare")
        wrong = {name: (ours[name], declared[name]) for name in ours
                 if ours[name] != declared[name]}
        self.assertEqual(wrong, {}, "argument counts (table, header) differ")

    def test_table_matches_the_exports(self):
        nm = shutil.which("nm")
        if nm is None:
            self.skipTest("nm not found (binutils): cannot list %s's exports" % _lib.path)
        if os.sep not in _lib.path:
            self.skipTest("library %s found by soname, no file to read" % _lib.path)
        proc = subprocess.run([nm, "-D", "--defined-only", _lib.path], capture_output=True,
                              text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        # "0000000000009e30 T recint_config_copy@@RECINT_0": the name without its version.
        exported = {line.split()[-1].split("@")[0] for line in proc.stdout.splitlines()
                    if line.split() and line.split()[-1].startswith("recint_")}
        self.assertGreater(len(exported), 100, "no recint_* exports parsed from nm")
        ours = set(table())
        self.assertEqual(sorted(exported - ours), [],
                         "exported functions missing from recint/_lib.py PROTOTYPES")
        self.assertEqual(sorted(ours - exported), [],
                         "PROTOTYPES entries %s does not export" % _lib.path)


if __name__ == "__main__":
    unittest.main()
