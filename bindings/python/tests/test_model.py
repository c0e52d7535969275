import gc
import math
import unittest

import recint
from support import NUMPY_BLOCKED, TmpDirCase, hand_dataset, np, tolist

# Train part of the hand example (temporal:0.2 moves each user's last row to test):
#   user 1 (index 0): 10 20 30   user 2 (1): 10   user 3 (2): 10 20 40   user 4 (3): 60
# Popularity (train rows per item), items 10 20 30 40 50 60 -> indices 0..5:
POP = [3.0, 2.0, 1.0, 1.0, 0.0, 1.0]


def hand_train():
    train, _test = hand_dataset().split("temporal:0.2")
    return train


class Pop(TmpDirCase):
    def setUp(self):
        super().setUp()
        self.train = hand_train()
        self.model = recint.Model("pop").fit(self.train)

    def test_kinds_and_reads(self):
        self.assertIn("pop", recint.kinds())
        m = self.model
        self.assertEqual((m.kind, m.n_users, m.n_items), ("pop", 4, 6))
        self.assertEqual(m.user_index(4), 3)
        self.assertEqual(m.item_id(5), 60)
        self.assertIn("pop", repr(m))

    def test_recommend_known_answer(self):
        items, scores = self.model.recommend(3, k=3)
        # user 4 saw item 60; 30 and 40 tie at 1 and the smaller index wins
        self.assertEqual(tolist(items), [0, 1, 2])
        self.assertEqual(tolist(scores), [3.0, 2.0, 1.0])
        items, scores = self.model.recommend(0, k=10)  # only 3 unseen items remain
        self.assertEqual(tolist(items), [3, 5, 4])
        self.assertEqual(tolist(scores), [1.0, 1.0, 0.0])
        if NUMPY_BLOCKED:
            self.assertIsInstance(items, list)
        else:
            self.assertEqual((items.dtype, scores.dtype), (np.uint32, np.float32))

    def test_recommend_by_external_id(self):
        by_index = self.model.recommend(3, k=2)
        by_id = self.model.recommend(user_id=4, k=2)
        self.assertEqual(tolist(by_id[0]), tolist(by_index[0]))
        items, _ = self.model.recommend(user_id=4, k=3, ids=True)
        self.assertEqual(items, [10, 20, 30])
        with self.assertRaises(TypeError):
            self.model.recommend(3, user_id=4)
        with self.assertRaises(TypeError):
            self.model.recommend()
        with self.assertRaises(KeyError):
            self.model.recommend(user_id=99)

    def test_recommend_errors(self):
        with self.assertRaises(IndexError) as cm:
            self.model.recommend(4)
        self.assertIsInstance(cm.exception, recint.RangeError)
        self.assertIn("user 4 is out of range (n_users = 4)", str(cm.exception))
        with self.assertRaises(recint.InvalidArgumentError) as cm:
            self.model.recommend(0, k=0)
        self.assertIn("k must be >= 1", str(cm.exception))
        with self.assertRaises(recint.RangeError):
            self.model.recommend(-1)

    def test_score(self):
        full = self.model.score([0, 3])
        self.assertEqual(tolist(full), [POP, POP])
        some = self.model.score([2], items=[5, 0])
        self.assertEqual(tolist(some), [[1.0, 3.0]])
        self.assertEqual(tolist(self.model.score(1)), [POP])
        if not NUMPY_BLOCKED:
            self.assertEqual(full.shape, (2, 6))
            self.assertEqual(full.dtype, np.float32)
            self.assertEqual(self.model.score(np.array([1, 2], dtype=np.int64)).shape, (2, 6))
        with self.assertRaises(recint.RangeError) as cm:
            self.model.score([0, 7])
        self.assertIn("users[1] = 7 is out of range", str(cm.exception))

    def test_unfitted_model(self):
        m = recint.Model("pop")
        self.assertEqual((m.n_users, m.n_items), (0, 0))
        with self.assertRaises(recint.StateError) as cm:
            m.recommend(0)
        self.assertIn("not fitted", str(cm.exception))
        with self.assertRaises(recint.StateError):
            m.score([0])

    def test_unknown_kind(self):
        with self.assertRaises(recint.UnsupportedError) as cm:
            recint.Model("telepathy")
        self.assertIn("telepathy", str(cm.exception))

    def test_save_load_round_trip(self):
        path = self.path("pop.rim")
        self.model.save(path)
        back = recint.Model.load(path)
        self.assertEqual((back.kind, back.n_users, back.n_items), ("pop", 4, 6))
        self.assertEqual(back.users.ids(), [1, 2, 3, 4])
        self.assertEqual(back.items.ids(), [10, 20, 30, 40, 50, 60])
        for u in range(4):
            self.assertEqual(tolist(back.recommend(u, k=6)[0]),
                             tolist(self.model.recommend(u, k=6)[0]))
        with open(path, "rb") as f:
            data = f.read()
        self.assertEqual(tolist(recint.Model.from_bytes(data).score([0])), [POP])

    def test_load_errors(self):
        with self.assertRaises(recint.RecintIOError) as cm:
            recint.Model.load(self.path("absent.rim"))
        self.assertIsInstance(cm.exception, OSError)
        self.assertIn("absent.rim", str(cm.exception))
        junk = self.path("junk.rim")
        with open(junk, "wb") as f:
            f.write(b"this is not a model file at all" * 4)
        with self.assertRaises(recint.FormatError) as cm:
            recint.Model.load(junk)
        self.assertTrue(str(cm.exception))
        path = self.path("cut.rim")
        self.model.save(path)
        with open(path, "rb") as f:
            data = f.read()
        with self.assertRaises(recint.FormatError):
            recint.Model.from_bytes(data[: len(data) // 2])

    def test_load_memory_limit(self):
        # docs/file-format.md "Bounded loads": the caller's limit replaces the
        # default bound (8 x file size + 64 MiB) and a refusal names the key.
        path = self.path("pop.rim")
        self.model.save(path)
        with open(path, "rb") as f:
            data = f.read()
        refused = "above the limit of 16 bytes set by load_memory_limit"
        for load in (lambda **p: recint.Model.load(path, **p),
                     lambda **p: recint.Model.from_bytes(data, **p)):
            with self.assertRaises(recint.FormatError) as cm:
                load(load_memory_limit=16)
            self.assertEqual(cm.exception.code, recint._lib.EFORMAT)
            self.assertIn(refused, str(cm.exception))
            for params in ({}, {"load_memory_limit": 0}, {"load_memory_limit": 1 << 30}):
                back = load(**params)
                self.assertEqual(tolist(back.score([0])), [POP], params)
            with self.assertRaises(recint.InvalidArgumentError):
                load(load_memory_limit=-1)
            with self.assertRaises(recint.NotFoundError):
                load(load_memory_limt=1 << 30)
        # The kind-checking subclasses pass the settings on.
        for cls in (recint.ALSModel, recint.SequentialModel, recint.HybridModel):
            with self.assertRaises(recint.FormatError) as cm:
                cls.load(path, load_memory_limit=16)
            self.assertIn(refused, str(cm.exception))
            with self.assertRaises(recint.FormatError):
                cls.from_bytes(data, load_memory_limit=16)

    def test_fit_params_are_checked(self):
        with self.assertRaises(recint.NotFoundError):
            recint.Model("pop").fit(self.train, thread=1)
        self.assertEqual(recint.Model("pop").fit(self.train, threads=1).n_items, 6)


class Progress(unittest.TestCase):
    def test_callback_sees_steps(self):
        calls = []
        recint.Model("pop").fit(hand_train(), progress=lambda *a: calls.append(a))
        self.assertEqual(len(calls), 1)
        step, steps, loss = calls[0]
        self.assertEqual((step, steps), (1, 1))
        self.assertTrue(math.isnan(loss))

    def test_true_cancels_and_the_model_keeps_its_state(self):
        train = hand_train()
        m = recint.Model("pop")
        with self.assertRaises(recint.CanceledError) as cm:
            m.fit(train, progress=lambda step, steps, loss: True)
        self.assertEqual(cm.exception.code, -7)
        self.assertEqual(m.n_items, 0)  # still unfitted
        m.fit(train)
        other = recint.Dataset.from_arrays([1, 2], [5, 5])
        with self.assertRaises(recint.CanceledError):
            m.fit(other, progress=lambda *a: 1)
        self.assertEqual(m.n_items, 6)  # the previous fit survived

    def test_exception_in_callback_cancels_and_is_reraised(self):
        class Stop(Exception):
            pass

        def progress(step, steps, loss):
            raise Stop("from the callback")

        m = recint.Model("pop")
        with self.assertRaises(Stop) as cm:
            m.fit(hand_train(), progress=progress)
        self.assertEqual(str(cm.exception), "from the callback")
        self.assertEqual(m.n_items, 0)

    def test_not_callable(self):
        with self.assertRaises(TypeError):
            recint.Model("pop").fit(hand_train(), progress=3)


class Ownership(unittest.TestCase):
    def test_trainer_keeps_the_c_model_alive(self):
        m = recint.Model("pop")
        trainer = recint.Trainer(m, threads=1)
        m.close()
        del m
        gc.collect()
        fitted = trainer.fit(hand_train())
        with self.assertRaises(recint.StateError):
            fitted.recommend(0)  # the wrapper was closed by the user
        trainer.close()

    def test_closed_model(self):
        m = recint.Model("pop").fit(hand_train())
        with m:
            pass
        self.assertTrue(m.closed)
        with self.assertRaises(recint.StateError):
            m.recommend(0)
        with self.assertRaises(recint.StateError):
            m.user_index(1)
        m.close()
