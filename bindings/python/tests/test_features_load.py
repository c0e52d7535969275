"""Feature files through the binding: sparse text with names, .npy and raw
float32 (written by hand with struct, so the tests run without numpy too)."""

import os
import struct
import unittest

import recint
from support import NUMPY_BLOCKED, TmpDirCase, hand_dataset, np, tolist


def npy_bytes(descr, shape, values, fmt):
    """A version 1.0 .npy file: magic, header dict padded to 64 bytes, data."""
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    total = 10 + len(header) + 1
    header += " " * ((64 - total % 64) % 64) + "\n"
    return (b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()
            + struct.pack("<%d%s" % (len(values), fmt), *values))


class SparseText(unittest.TestCase):
    def test_known_answer_rows_follow_the_catalogue(self):
        data = hand_dataset()  # items 10 20 30 40 50 60 at indices 0..5
        text = "# genres\n40\tdrama comedy:0.5\n10 comedy\n99\tunknown\n40\tdrama\n"
        f = recint.Features.sparse_from_text(text, data.items, name="genres.txt")
        self.assertEqual(f.shape, (6, 2))
        self.assertEqual(f.names, ["drama", "comedy"])
        self.assertEqual(tolist(f.row(data.items.index(40))), [2.0, 0.5])
        self.assertEqual(tolist(f.row(data.items.index(10))), [0.0, 1.0])
        self.assertEqual(tolist(f.row(data.items.index(20))), [0.0, 0.0])

    def test_file_and_errors(self):
        data = hand_dataset()
        with self.assertRaises(recint.FormatError) as cm:
            recint.Features.sparse_from_text("10\ta\n20\tb:oops\n", data.items, name="g.txt")
        self.assertIn("g.txt:2:", str(cm.exception))
        with self.assertRaises(recint.NotFoundError) as cm:
            recint.Features.sparse_from_text("10\ta\n99\tb\n", data.items, name="g.txt",
                                             feature_unknown_ids="error")
        self.assertIn("g.txt:2:", str(cm.exception))
        with self.assertRaises(TypeError):
            recint.Features.sparse_from_text("10\ta\n", data)  # not .users / .items
        with self.assertRaises(recint.RecintIOError):
            recint.Features.load_sparse("/nonexistent/features.txt", data.users)


class WithHybrid(unittest.TestCase):
    @unittest.skipUnless("hybrid" in recint.kinds(), "no hybrid kind in this build")
    def test_items_with_the_same_feature_row_score_alike(self):
        data = hand_dataset()
        # only genre features: items 10 and 20 share their row, so their vectors
        text = "10\tdrama\n20\tdrama\n30\tcomedy\n40\tcomedy drama\n50\twar\n60\twar\n"
        genres = recint.Features.sparse_from_text(text, data.items)
        model = recint.HybridModel(dim=8, epochs=3, threads=1).fit(data, item_features=genres)
        i10, i20, i30 = (data.items.index(i) for i in (10, 20, 30))
        for u in range(model.n_users):
            s = tolist(model.predict([u, u, u], [i10, i20, i30]))
            self.assertEqual(s[0], s[1])
        self.assertNotEqual(tolist(model.predict([0], [i10])), tolist(model.predict([0], [i30])))


class FilesOnDisk(TmpDirCase):
    def test_sparse_file_by_user_ids(self):
        data = hand_dataset()
        path = os.path.join(self.tmp, "users.txt")
        with open(path, "w") as fh:
            fh.write("3\tage:31 country:fr\n1\tcountry:de\n")
        with self.assertRaises(recint.FormatError):  # 'country:fr' reads fr as a weight
            recint.Features.load_sparse(path, data.users)
        with open(path, "w") as fh:
            fh.write("3\tage:31 country:fr:1\n1\tcountry:de:1\n")
        f = recint.Features.load_sparse(path, data.users)
        self.assertEqual(f.names, ["age", "country:fr", "country:de"])
        self.assertEqual(tolist(f.row(data.users.index(3))), [31.0, 1.0, 0.0])
        self.assertEqual(tolist(f.row(data.users.index(1))), [0.0, 0.0, 1.0])

    def test_npy_float32_and_float64(self):
        data = hand_dataset()  # 4 users
        values = [0.5, -1.0, 2.0, 3.5, 4.0, 5.25, -6.0, 7.0]
        for descr, fmt in (("<f4", "f"), ("<f8", "d")):
            path = os.path.join(self.tmp, "u%s.npy" % fmt)
            with open(path, "wb") as fh:
                fh.write(npy_bytes(descr, "(4, 2)", values, fmt))
            f = recint.Features.load_dense(path, data.users)
            self.assertEqual(f.shape, (4, 2))
            self.assertEqual(tolist(f.to_dense()), [values[0:2], values[2:4], values[4:6],
                                                    values[6:8]])
        with open(path, "wb") as fh:
            fh.write(npy_bytes("<f4", "(3, 2)", values[:6], "f"))
        with self.assertRaises(recint.InvalidArgumentError) as cm:
            recint.Features.load_dense(path, data.users)  # 3 rows, 4 users
        self.assertIn("holds 4", str(cm.exception))
        with open(path, "wb") as fh:
            fh.write(npy_bytes(">f4", "(4, 2)", values, "f"))
        with self.assertRaises(recint.UnsupportedError):
            recint.Features.load_dense(path)

    @unittest.skipIf(NUMPY_BLOCKED, "needs numpy to write the file")
    def test_npy_written_by_numpy(self):
        a = np.arange(24, dtype=np.float64).reshape(6, 4) / 8
        path = os.path.join(self.tmp, "items.npy")
        np.save(path, a)
        f = recint.Features.load_dense(path, hand_dataset().items)
        self.assertTrue(np.array_equal(f.to_dense(), a.astype(np.float32)))

    def test_raw_float32(self):
        path = os.path.join(self.tmp, "items.f32")
        values = [float(v) for v in range(12)]
        with open(path, "wb") as fh:
            fh.write(struct.pack("<12f", *values))
        f = recint.Features.load_dense(path, hand_dataset().items, cols=2)
        self.assertEqual(f.shape, (6, 2))
        self.assertEqual(tolist(f.row(5)), [10.0, 11.0])
        with self.assertRaises(TypeError):
            recint.Features.load_dense(path)  # cols missing
        with self.assertRaises(recint.FormatError):
            recint.Features.load_dense(path, cols=5)


if __name__ == "__main__":
    unittest.main()
