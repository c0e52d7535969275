import threading
import unittest

import recint
from support import NUMPY_BLOCKED, hand_dataset, np, tolist


class FeatureMatrices(unittest.TestCase):
    def test_sparse(self):
        # [[1, 0, 2], [0, 0, 0], [0, 3, 0]]
        f = recint.Features.from_sparse(3, 3, [0, 2, 2, 3], [0, 2, 1], [1, 2, 3])
        self.assertEqual(f.shape, (3, 3))
        self.assertEqual(tolist(f.to_dense()), [[1, 0, 2], [0, 0, 0], [0, 3, 0]])
        ones = recint.Features.from_sparse(2, 2, [0, 1, 2], [1, 0])
        self.assertEqual(tolist(ones.row(0)), [0.0, 1.0])

    def test_sparse_errors(self):
        with self.assertRaises(recint.InvalidArgumentError) as cm:
            recint.Features.from_sparse(2, 2, [0, 1, 2], [0, 5])
        self.assertTrue(str(cm.exception))
        with self.assertRaises(ValueError):  # indices shorter than indptr claims
            recint.Features.from_sparse(2, 2, [0, 1, 3], [0, 1])
        with self.assertRaises(ValueError):
            recint.Features.from_sparse(3, 2, [0, 1, 2], [0, 1])

    def test_dense_identity_hstack(self):
        rows = [[0.5, 1.5], [2.5, 3.5], [4.5, 5.5]]
        dense = recint.Features.from_dense(rows)
        self.assertEqual(tolist(dense.to_dense()), rows)
        both = recint.Features.hstack([recint.Features.identity(3), dense])
        self.assertEqual(both.shape, (3, 5))
        self.assertEqual(tolist(both.row(1)), [0, 1, 0, 2.5, 3.5])
        dense.close()
        self.assertEqual(tolist(both.row(2)), [0, 0, 1, 4.5, 5.5])  # hstack copied
        with self.assertRaises(recint.RangeError):
            both.row(3)

    @unittest.skipIf(NUMPY_BLOCKED, "numpy input")
    def test_dense_from_a_row_strided_numpy_block(self):
        big = np.arange(12, dtype=np.float32).reshape(3, 4)
        f = recint.Features.from_dense(big[:, :2])  # rows 4 floats apart
        self.assertEqual(f.to_dense().tolist(), [[0, 1], [4, 5], [8, 9]])

    def test_dense_nan_is_refused(self):
        with self.assertRaises(recint.InvalidArgumentError):
            recint.Features.from_dense([[float("nan")]])


class Threads(unittest.TestCase):
    def test_concurrent_const_calls_agree(self):
        train, test = hand_dataset().split("temporal:0.2")
        model = recint.Model("pop").fit(train)
        expect = [tolist(model.recommend(u, k=3)[0]) for u in range(4)]
        errors, results = [], []

        def work():
            try:
                for _ in range(200):
                    results.append([tolist(model.recommend(u, k=3)[0]) for u in range(4)])
                try:
                    model.recommend(9)
                except recint.RangeError as exc:  # per-thread message
                    results.append(str(exc))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        lists = [r for r in results if isinstance(r, list)]
        self.assertEqual(len(lists), 800)
        self.assertTrue(all(r == expect for r in lists))
        messages = [r for r in results if isinstance(r, str)]
        self.assertEqual(len(messages), 4)
        self.assertTrue(all("user 9 is out of range" in m for m in messages))
