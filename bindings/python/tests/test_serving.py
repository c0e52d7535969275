"""Serving calls from Python: factors models, filters, batch, vectors, similar items.

Reference answers come from plain Python loops (float64 dot products, sorted by
score then index), so the same checks run with and without numpy."""

import math
import random
import unittest

import recint
from support import NUMPY_BLOCKED, TmpDirCase, hand_dataset, np, tolist


def rand_matrix(rows, cols, rng, integers=False):
    if integers:
        return [[float(rng.randint(-3, 3)) for _ in range(cols)] for _ in range(rows)]
    return [[rng.uniform(-1, 1) for _ in range(cols)] for _ in range(rows)]


def f32(x):
    """x rounded to float32, as the library stores it."""
    import struct
    return struct.unpack("f", struct.pack("f", x))[0]


def as_input(matrix):
    return np.array(matrix, dtype=np.float32) if np is not None else matrix


def reference_top(scores, k, eligible=None):
    order = sorted((i for i in range(len(scores)) if eligible is None or i in eligible),
                   key=lambda i: (-scores[i], i))
    return order[:k]


class Factors(TmpDirCase):
    def setUp(self):
        super().setUp()
        rng = random.Random(7)
        # small integers: every float32 dot product is exact, ties are real
        self.U = rand_matrix(12, 5, rng, integers=True)
        self.V = rand_matrix(40, 5, rng, integers=True)
        self.b = [float(rng.randint(-2, 2)) for _ in range(40)]
        self.model = recint.Model.from_factors(as_input(self.U), as_input(self.V), self.b)

    def scores(self, u):
        return [sum(a * c for a, c in zip(u, v)) + b for v, b in zip(self.V, self.b)]

    def test_reads(self):
        m = self.model
        self.assertEqual((m.kind, m.n_users, m.n_items, m.dim), ("factors", 12, 40, 5))
        self.assertIn("factors", recint.kinds())
        self.assertEqual(m.item_id(39), 39)

    def test_recommend_matches_reference(self):
        for u in range(12):
            ref = self.scores(self.U[u])
            for k in (1, 7, 40, 100):
                items, scores = self.model.recommend(u, k=k)
                self.assertEqual(tolist(items), reference_top(ref, k))
                self.assertEqual(tolist(scores), [ref[i] for i in tolist(items)])

    def test_filter(self):
        f = recint.Filter(40, allow=range(0, 40, 2), block=[0, 2, 4])
        eligible = set(range(6, 40, 2))
        for u in range(12):
            items, _ = self.model.recommend(u, k=10, filter=f)
            self.assertEqual(tolist(items), reference_top(self.scores(self.U[u]), 10, eligible))
        f.clear().block(range(40))
        items, scores = self.model.recommend(0, k=5, filter=f)
        self.assertEqual((tolist(items), tolist(scores)), ([], []))
        self.assertFalse(f.include_seen)
        f.include_seen = True
        self.assertTrue(f.include_seen)
        with self.assertRaises(recint.RangeError):
            f.allow([40])
        with self.assertRaises(recint.InvalidArgumentError):
            self.model.recommend(0, k=5, filter=recint.Filter(41))
        with self.assertRaises(TypeError):
            self.model.recommend(0, k=5, filter="all")

    def test_batch_equals_recommend(self):
        users = [3, 0, 11, 3, 7]
        for threads in (None, 1, 2):
            ids, scores, counts = self.model.recommend_batch(users, k=8, threads=threads)
            self.assertEqual(tolist(counts), [8] * 5)
            for r, u in enumerate(users):
                one, one_s = self.model.recommend(u, k=8)
                self.assertEqual(tolist(ids[r])[:8], tolist(one))
                self.assertEqual(tolist(scores[r])[:8], tolist(one_s))
        if not NUMPY_BLOCKED:
            self.assertEqual(ids.shape, (5, 8))
            self.assertEqual((ids.dtype, scores.dtype), (np.uint32, np.float32))
        # rows shorter than k: padding with numpy, cut rows without
        f = recint.Filter(40, allow=[1, 2, 3])
        ids, scores, counts = self.model.recommend_batch(users, k=10, filter=f)
        self.assertEqual(tolist(counts), [3] * 5)
        if NUMPY_BLOCKED:
            self.assertEqual([len(r) for r in ids], [3] * 5)
        else:
            self.assertEqual(ids.shape, (5, 10))
            self.assertTrue((ids[:, 3:] == 4294967295).all())
            self.assertTrue(np.isnan(scores[:, 3:]).all())
        with self.assertRaises(IndexError):
            self.model.recommend_batch([12], k=3)
        with self.assertRaises(recint.InvalidArgumentError):
            self.model.recommend_batch([1], k=0)
        ids, scores, counts = self.model.recommend_batch([], k=3)
        self.assertEqual(len(counts), 0)

    def test_vector_and_similar(self):
        items, scores = self.model.recommend_vector(self.U[4], k=9)
        one, one_s = self.model.recommend(4, k=9)
        self.assertEqual((tolist(items), tolist(scores)), (tolist(one), tolist(one_s)))
        ex = [tolist(one)[2], tolist(one)[0], tolist(one)[2]]
        items, _ = self.model.recommend_vector(self.U[4], k=7, exclude=ex)
        self.assertEqual(tolist(items), [i for i in tolist(one) if i not in ex][:7])
        with self.assertRaises(ValueError):
            self.model.recommend_vector([1.0, 2.0], k=3)
        with self.assertRaises(recint.InvalidArgumentError):
            self.model.recommend_vector([1.0, float("nan"), 0, 0, 0], k=3)
        # similar items by cosine, and by dot product on a second model
        norms = [math.sqrt(sum(x * x for x in v)) for v in self.V]

        def cos(a, b):
            d = sum(x * y for x, y in zip(self.V[a], self.V[b]))
            return d / (norms[a] * norms[b]) if norms[a] and norms[b] else 0.0
        items, scores = self.model.similar_items(5, k=6)
        ref = [cos(5, j) for j in range(40)]
        got = tolist(items)
        self.assertNotIn(5, got)
        want = reference_top(ref, 6, set(range(40)) - {5})
        for r, (i, w) in enumerate(zip(got, want)):
            self.assertTrue(i == w or abs(ref[i] - ref[w]) <= 1e-6, (r, got, want))
            self.assertAlmostEqual(tolist(scores)[r], ref[i], places=5)
        dot = recint.Model.from_factors(as_input(self.U), as_input(self.V), self.b,
                                        similarity="dot")
        items, scores = dot.similar_items(5, k=6)
        ref = [sum(x * y for x, y in zip(self.V[5], v)) for v in self.V]
        self.assertEqual(tolist(items), reference_top(ref, 6, set(range(40)) - {5}))
        with self.assertRaises(IndexError):
            self.model.similar_items(40)

    def test_save_load_int8(self):
        rng = random.Random(3)
        U, V = rand_matrix(20, 16, rng), rand_matrix(500, 16, rng)
        plain = recint.Model.from_factors(as_input(U), as_input(V))
        q = recint.Model.from_factors(as_input(U), as_input(V), quantize="int8")
        for model in (plain, q):
            path = self.path("m.bin")
            model.save(path)
            back = recint.Model.load(path)
            self.assertEqual((back.kind, back.dim), ("factors", 16))
            for u in range(20):
                a, sa = model.recommend(u, k=10)
                b, sb = back.recommend(u, k=10)
                self.assertEqual((tolist(a), tolist(sa)), (tolist(b), tolist(sb)))
        # int8 serving returns the exact top-10 here and exact scores
        for u in range(20):
            a, sa = plain.recommend(u, k=10)
            b, sb = q.recommend(u, k=10)
            self.assertEqual((tolist(a), tolist(sa)), (tolist(b), tolist(sb)))

    def test_from_factors_errors(self):
        with self.assertRaises(recint.InvalidArgumentError):
            recint.Model.from_factors([[1.0, float("inf")]], [[1.0, 2.0]])
        with self.assertRaises(ValueError):
            recint.Model.from_factors([[1.0, 2.0, 3.0]], [[1.0, 2.0]])
        with self.assertRaises(ValueError):
            recint.Model.from_factors([[1.0]], [[1.0]], bias=[1.0, 2.0])
        no_users = recint.Model.from_factors(None, as_input([[1.0, 0.0], [0.0, 1.0]]))
        self.assertEqual((no_users.n_users, no_users.n_items, no_users.dim), (0, 2, 2))
        with self.assertRaises(recint.UnsupportedError):
            recint.Trainer(no_users).fit(hand_dataset())
        with self.assertRaises(recint.UnsupportedError):
            recint.Model("factors")


class PopServing(unittest.TestCase):
    def test_pop_batch_and_seen(self):
        train, _ = hand_dataset().split("temporal:0.2")
        m = recint.Model("pop").fit(train)
        self.assertEqual(m.dim, 0)
        ids, scores, counts = m.recommend_batch(range(4), k=3)
        for u in range(4):
            one, one_s = m.recommend(u, k=3)
            self.assertEqual(tolist(ids[u])[:counts[u]], tolist(one))
        f = recint.Filter(m.n_items, include_seen=True)
        items, _ = m.recommend(0, k=6, filter=f)
        self.assertEqual(len(tolist(items)), 6)  # seen items come back
        with self.assertRaises(recint.UnsupportedError):
            m.similar_items(0)
        with self.assertRaises(ValueError):
            m.recommend_vector([1.0], k=3)


if __name__ == "__main__":
    unittest.main()
