import os
import unittest

import recint
from support import TmpDirCase, tolist


def clustered(n_users=40, n_items=40, per_user=8, skip_item=None):
    """Users like the 10 items of cluster u % 4 (ids 100 + u, 500 + i)."""
    users, items = [], []
    for u in range(n_users):
        for k in range(per_user):
            i = (u % 4) * 10 + (k + u) % 10
            if i != skip_item:
                users.append(100 + u)
                items.append(500 + i)
    ds = recint.Dataset()
    ds.reserve_ids(items=[500 + i for i in range(n_items)])
    ds.add(users, items)
    return ds


def cluster_features(n_items=40):
    """[identity | cluster one-hot] over the items, as one sparse matrix."""
    indptr, indices = [0], []
    for i in range(n_items):
        indices += [i, n_items + i // 10]
        indptr.append(len(indices))
    return recint.Features.from_sparse(n_items, n_items + 4, indptr, indices)


PARAMS = dict(dim=8, epochs=30, threads=1, loss="warp")


class Hybrid(TmpDirCase):
    def test_fit_recommend_similar(self):
        train = clustered()
        m = recint.HybridModel(**PARAMS).fit(train)
        self.assertIsInstance(m, recint.Model)
        self.assertEqual((m.kind, m.dim), ("hybrid", 8))
        items, scores = m.recommend(0, k=5)
        self.assertEqual(len(items), 5)
        u0 = m.user_index(100)
        items, _ = m.recommend(u0, k=2)
        for i in tolist(items):
            self.assertEqual(m.item_id(i) // 10, 50)  # cluster 0: ids 500..509
        sim, _ = m.similar_items(m.item_index(523), k=3)
        for i in tolist(sim):
            self.assertEqual((m.item_id(i) - 500) // 10, 2)

    def test_cold_item_from_features(self):
        train = clustered(skip_item=9)
        m = recint.HybridModel(**PARAMS).fit(train, item_features=cluster_features())
        u0 = m.user_index(100)
        scores = m.score([u0])
        row = tolist(scores[0])
        cold = m.item_index(509)
        others = [row[m.item_index(500 + i)] for i in range(10, 40)]
        self.assertGreater(row[cold], max(others))
        p = m.predict([u0, u0], [cold, m.item_index(520)])
        self.assertAlmostEqual(float(p[0]), row[cold], places=5)

    def test_feature_vector_of_a_new_item(self):
        train = clustered()
        m = recint.HybridModel(user_history="none", **PARAMS).fit(
            train, item_features=cluster_features())
        u0 = m.user_index(100)
        uv, _ = m.feature_vector([u0], side="user")
        uv = [float(x) for x in tolist(uv)]
        # a brand-new item described by the cluster-0 feature alone
        v0, b0 = m.feature_vector([40])
        v3, b3 = m.feature_vector([43], weights=[1.0])
        s0 = sum(a * b for a, b in zip(uv, tolist(v0))) + b0
        s3 = sum(a * b for a, b in zip(uv, tolist(v3))) + b3
        self.assertGreater(s0, s3)
        # an existing item's own feature row scores as served
        i = m.item_index(505)
        vi, bi = m.feature_vector([i, 40])
        served = float(tolist(m.score([u0])[0])[i])
        self.assertAlmostEqual(sum(a * b for a, b in zip(uv, tolist(vi))) + bi, served, places=4)
        with self.assertRaises(ValueError):
            m.feature_vector([40], side="both")
        with self.assertRaises(recint.RangeError):
            m.feature_vector([44])

    def test_fold_in_and_partial_fit(self):
        train = clustered()
        m = recint.HybridModel(**PARAMS).fit(train)
        vec = m.fold_in([m.item_index(530), m.item_index(531), m.item_index(533)])
        items, _ = m.recommend_vector(vec, k=3)
        for i in tolist(items):
            self.assertEqual((m.item_id(i) - 500) // 10, 3)
        before = tolist(m.score([0])[0])
        more = recint.Dataset.with_catalogue(m)
        more.add([100], [539])
        seen = []
        m.fit_partial(more, epochs=2, progress=lambda s, n, l: seen.append(s))
        self.assertEqual(seen, [1, 2])
        self.assertNotEqual(before, tolist(m.score([0])[0]))
        self.assertNotIn(m.item_index(539), tolist(m.recommend(m.user_index(100), k=40)[0]))

    def test_save_load(self):
        train = clustered()
        m = recint.HybridModel(**PARAMS).fit(train, item_features=cluster_features())
        path = os.path.join(self.tmp, "h.bin")
        m.save(path)
        back = recint.HybridModel.load(path)
        self.assertEqual(tolist(m.score([3])[0]), tolist(back.score([3])[0]))
        als = recint.ALSModel(dim=4, iterations=1).fit(train)
        als.save(path)
        with self.assertRaises(ValueError):
            recint.HybridModel.load(path)

    def test_bad_features(self):
        m = recint.HybridModel(**PARAMS)
        with self.assertRaises(recint.InvalidArgumentError):
            m.fit(clustered(), item_features=recint.Features.identity(7))
        with self.assertRaises(TypeError):
            m.set_features(item_features=object())


if __name__ == "__main__":
    unittest.main()
