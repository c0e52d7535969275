import math
import os
import unittest

import recint
from support import TmpDirCase, np, tolist


def lcg_dataset(n_users=40, n_items=30, density=25, seed=7):
    """A random implicit dataset (ids 1000 + u, 5000 + i) from a tiny LCG."""
    users, items, weights = [], [], []
    s = seed
    for u in range(n_users):
        for i in range(n_items):
            s = (s * 6364136223846793005 + 1442695040888963407) % (1 << 64)
            if (s >> 33) % 100 < density:
                users.append(1000 + u)
                items.append(5000 + i)
                weights.append(float(1 + (s >> 20) % 3))
    return recint.Dataset.from_arrays(users, items, weights=weights)


PARAMS = dict(dim=8, iterations=3, regularization=0.5, alpha=2.0, threads=1)


def dot(a, b):
    return sum(float(x) * float(y) for x, y in zip(a, b))


class ALS(TmpDirCase):
    @classmethod
    def setUpClass(cls):
        cls.train = lcg_dataset()
        cls.model = recint.ALSModel(**PARAMS).fit(cls.train)

    def test_factors_round_trip(self):
        U, V, b = self.model.factors()
        self.assertEqual((len(U), len(U[0]), len(V), len(V[0]), len(b)),
                         (self.model.n_users, 8, self.model.n_items, 8, self.model.n_items))
        want = self.model.score([0, 5, 39])
        for r, u in enumerate([0, 5, 39]):
            for i in range(self.model.n_items):
                self.assertAlmostEqual(dot(U[u], V[i]) + float(b[i]), float(want[r][i]), places=4)
        copy = recint.Model.from_factors(U, V, b)
        got = copy.score([0, 5, 39])
        for r in range(3):
            for i in range(self.model.n_items):
                self.assertAlmostEqual(float(got[r][i]), float(want[r][i]), places=4)

    def history(self, user):
        """The user's training items (dense indices) from recommend's exclusion:
        every item not recommended with k = n_items is a training item."""
        items, _ = self.model.recommend(user, k=self.model.n_items)
        rec = set(tolist(items))
        return [i for i in range(self.model.n_items) if i not in rec]

    def test_is_an_als_model(self):
        m = self.model
        self.assertIsInstance(m, recint.Model)
        self.assertEqual((m.kind, m.dim), ("als", 8))
        self.assertIn("ALSModel", recint.__all__)

    def test_fold_in_matches_explained_score_and_recommend_vector(self):
        m = self.model
        for user in (0, 5, 17):
            hist = self.history(user)
            vec = m.fold_in(hist)
            self.assertEqual(len(vec), 8)
            if np is not None:
                self.assertIsInstance(vec, np.ndarray)
                self.assertEqual(vec.dtype, np.float32)
            else:
                self.assertIsInstance(vec, list)
            rec_items, _ = m.recommend(user, k=3)
            item = int(tolist(rec_items)[0])
            top, contrib, score = m.explain(user, item, k=m.n_items)
            self.assertEqual(sorted(tolist(top)), hist)
            self.assertLessEqual(abs(sum(tolist(contrib)) - score), 1e-4 * max(1, abs(score)))
            # score of item for the folded vector, through recommend_vector
            items, scores = m.recommend_vector(vec, k=m.n_items)
            by_item = dict(zip(tolist(items), tolist(scores)))
            self.assertLessEqual(abs(by_item[item] - score), 1e-4 * max(1, abs(score)))
            # top-k is the head of the full list, best first
            top3, c3, score3 = m.explain(user, item, k=3)
            self.assertEqual(tolist(top3), tolist(top)[:3])
            self.assertEqual(tolist(c3), tolist(contrib)[:3])
            self.assertEqual(score3, score)
            self.assertEqual(tolist(c3), sorted(tolist(c3), reverse=True))

    def test_fold_in_weights_and_inputs(self):
        m = self.model
        a = tolist(m.fold_in([1, 4, 9]))
        b = tolist(m.fold_in((1, 4, 9), weights=[1, 1, 1]))
        self.assertEqual(a, b)
        c = tolist(m.fold_in([1, 4, 9], weights=[1, 5, 1]))
        self.assertNotEqual(a, c)
        self.assertEqual(tolist(m.fold_in([])), [0.0] * 8)
        if np is not None:
            d = m.fold_in(np.array([1, 4, 9], dtype=np.int64), np.array([1, 5, 1]))
            self.assertEqual(d.tolist(), c)

    def test_errors(self):
        m = self.model
        with self.assertRaises(recint.RangeError):
            m.fold_in([m.n_items])
        with self.assertRaises(recint.InvalidArgumentError):
            m.fold_in([1, 1])
        with self.assertRaises(recint.InvalidArgumentError):
            m.fold_in([1, 2], weights=[1, -1])
        with self.assertRaises(recint.InvalidArgumentError):
            m.fold_in([1, 2], weights=[1, math.nan])
        with self.assertRaises(ValueError):
            m.fold_in([1, 2], weights=[1])
        with self.assertRaises(recint.RangeError):
            m.explain(m.n_users, 0)
        with self.assertRaises(recint.RangeError):
            m.explain(0, m.n_items)
        with self.assertRaises(recint.StateError):
            recint.ALSModel(dim=4).fold_in([0])
        pop = recint.Model("pop").fit(self.train)
        with self.assertRaises(recint.UnsupportedError):
            pop.fold_in([0])
        with self.assertRaises(recint.UnsupportedError):
            pop.explain(0, 0)

    def test_similar_items_and_save_load(self):
        m = self.model
        items, scores = m.similar_items(2, k=5)
        self.assertEqual(len(tolist(items)), 5)
        self.assertNotIn(2, tolist(items))
        path = os.path.join(self.tmp, "als.bin")
        m.save(path)
        back = recint.ALSModel.load(path)
        self.assertIsInstance(back, recint.ALSModel)
        self.assertEqual(tolist(back.fold_in([3, 8])), tolist(m.fold_in([3, 8])))
        self.assertEqual(back.explain(4, 2, k=4)[2], m.explain(4, 2, k=4)[2])
        pop_path = os.path.join(self.tmp, "pop.bin")
        recint.Model("pop").fit(self.train).save(pop_path)
        with self.assertRaises(ValueError):
            recint.ALSModel.load(pop_path)


class PartialFitAndLoss(TmpDirCase):
    def test_partial_fit_users_equals_fold_in(self):
        train = lcg_dataset()
        m = recint.ALSModel(**PARAMS).fit(train)
        n_users = m.n_users
        fold_before = tolist(m.fold_in([2]))
        items_before, scores_before = m.recommend(3, k=5)
        # user 1000 gets a new history; 99 is a new user
        upd = recint.Dataset.from_arrays([1000, 1000, 99], [5001, 5007, 5003],
                                         weights=[2.0, 1.0, 1.0])
        self.assertIs(m.partial_fit_users(upd), m)
        self.assertEqual(m.n_users, n_users + 1)
        new = m.users.index(99)
        self.assertEqual(new, n_users)
        i1, i7, i3 = m.items.index(5001), m.items.index(5007), m.items.index(5003)
        # the stored row is the exact solve, as fold_in computes it: served scores agree
        for user, hist, w in ((m.users.index(1000), [i1, i7], [2.0, 1.0]), (new, [i3], None)):
            vec = m.fold_in(hist, weights=w)
            a_items, a_scores = m.recommend(user, k=m.n_items)
            b_items, b_scores = m.recommend_vector(vec, k=m.n_items, exclude=sorted(hist))
            self.assertEqual(tolist(a_items), tolist(b_items))
            for x, y in zip(tolist(a_scores), tolist(b_scores)):
                self.assertLessEqual(abs(x - y), 1e-5 * max(1.0, abs(x)))
            self.assertEqual(len(tolist(a_items)), m.n_items - len(hist))
        # other users are untouched
        items_after, scores_after = m.recommend(3, k=5)
        self.assertEqual(tolist(items_after), tolist(items_before))
        self.assertEqual(tolist(scores_after), tolist(scores_before))
        self.assertEqual(tolist(m.fold_in([2])), fold_before)
        with self.assertRaises(recint.NotFoundError):
            m.partial_fit_users(recint.Dataset.from_arrays([1000], [424242]))
        self.assertEqual(m.n_users, n_users + 1)

    def test_partial_fit_items_appends(self):
        train = lcg_dataset()
        m = recint.ALSModel(**PARAMS).fit(train)
        n_items = m.n_items
        upd = recint.Dataset.from_arrays([1000, 1001, 1002], [777, 777, 5004])
        self.assertIs(m.partial_fit_items(upd), m)
        self.assertEqual(m.n_items, n_items + 1)
        self.assertEqual(m.items.index(777), n_items)
        items, _ = m.similar_items(n_items, k=3)
        self.assertEqual(len(tolist(items)), 3)
        items, _ = m.recommend(m.users.index(1000), k=m.n_items)
        self.assertNotIn(n_items, tolist(items))
        with self.assertRaises(recint.NotFoundError):
            m.partial_fit_items(recint.Dataset.from_arrays([31337], [5004]))
        # the C call refuses other kinds (the method is ALSModel's, called on a pop model)
        with self.assertRaises(recint.UnsupportedError):
            recint.ALSModel.partial_fit_users(recint.Model("pop").fit(train), upd)

    def test_compute_loss_reaches_progress(self):
        train = lcg_dataset()
        seen = []

        def progress(step, steps, loss):
            seen.append(loss)
            return False

        recint.ALSModel(compute_loss=True, **PARAMS).fit(train, progress=progress)
        self.assertEqual(len(seen), 3)
        self.assertTrue(all(math.isfinite(x) and x > 0 for x in seen))
        self.assertLessEqual(seen[-1], seen[0] * (1 + 1e-6))
        seen.clear()
        recint.ALSModel(**PARAMS).fit(train, progress=progress)
        self.assertTrue(all(math.isnan(x) for x in seen))


if __name__ == "__main__":
    unittest.main()
