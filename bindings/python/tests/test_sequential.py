import unittest

import recint
from support import TmpDirCase, tolist

N_CYC = 10


def cycle_dataset(n_users=80):
    """Users walk a cycle of N_CYC items (ids 100 + i) from a start of their own:
    the next item is always the following one, which only the order reveals."""
    users, items, stamps = [], [], []
    for u in range(n_users):
        start = (u * 7) % N_CYC
        for k in range(4 + u % 3):
            users.append(u)
            items.append(100 + (start + k) % N_CYC)
            stamps.append(1000 + 10 * k)
    return recint.Dataset.from_arrays(users, items, timestamps=stamps)


PARAMS = dict(dim=16, maxlen=8, heads=2, epochs=60, dropout=0.0, learning_rate=0.01,
              batch_size=16, loss="softmax", threads=2)


class Sequential(TmpDirCase):
    @classmethod
    def setUpClass(cls):
        cls.train = cycle_dataset()
        cls.model = recint.SequentialModel(**PARAMS).fit(cls.train)

    def test_is_a_sequential_model(self):
        m = self.model
        self.assertIsInstance(m, recint.Model)
        self.assertEqual((m.kind, m.dim), ("sequential", 16))
        self.assertIn("SequentialModel", recint.__all__)

    def test_recommends_the_next_item_of_a_history(self):
        m = self.model
        hits = 0
        for last in range(N_CYC):
            hist = [m.item_index(100 + (last - 2) % N_CYC), m.item_index(100 + (last - 1) % N_CYC),
                    m.item_index(100 + last)]
            items, scores = m.recommend(history=hist, k=3)
            items = tolist(items)
            self.assertEqual(len(items), 3)
            self.assertFalse(set(items) & set(hist))
            hits += m.item_id(items[0]) == 100 + (last + 1) % N_CYC
        self.assertGreaterEqual(hits, N_CYC - 1)

    def test_history_equals_sequence_vector_and_stored_user(self):
        m = self.model
        # user 3 starts at 1 and sees 4 + 0 items: 101, 102, 103, 104
        user = m.user_index(3)
        hist = [m.item_index(100 + (1 + k) % N_CYC) for k in range(4)]
        a, sa = m.recommend(user, k=5)
        b, sb = m.recommend(history=hist, k=5)
        self.assertEqual(tolist(a), tolist(b))
        for x, y in zip(tolist(sa), tolist(sb)):
            self.assertAlmostEqual(x, y, places=5)
        v = m.sequence_vector(hist)
        c, _ = m.recommend_vector(v, k=5, exclude=hist)
        self.assertEqual(tolist(a), tolist(c))
        self.assertEqual(len(tolist(m.sequence_vector([]))), 16)

    def test_save_load(self):
        path = self.path("seq.bin")
        self.model.save(path)
        back = recint.SequentialModel.load(path)
        self.assertIsInstance(back, recint.SequentialModel)
        self.assertEqual(tolist(back.sequence_vector([0, 1, 2])),
                         tolist(self.model.sequence_vector([0, 1, 2])))
        back.close()
        recint.Model("pop").fit(self.train).save(path)
        with self.assertRaises(ValueError):
            recint.SequentialModel.load(path)

    def test_errors(self):
        with self.assertRaises(recint.RangeError):
            self.model.sequence_vector([0, self.model.n_items])
        with self.assertRaises(ValueError):
            self.model.recommend(0, history=[1])
        with self.assertRaises(recint.InvalidArgumentError):
            recint.SequentialModel(heads=3, dim=16)
        pop = recint.Model("pop").fit(self.train)
        with self.assertRaises(recint.UnsupportedError):
            recint.SequentialModel.sequence_vector(pop, [0])


if __name__ == "__main__":
    unittest.main()
