import math
import unittest

import recint
from support import hand_dataset

# Hand example, temporal:0.2: test = each user's last row; pop ranks (see test_model):
#   user 1: train 10 20 30, test 40 -> unseen 40(1) 60(1) 50(0): rank 1
#   user 2: train 10,       test 40 -> 20(2) 30(1) 40(1) 60(1) 50(0): rank 3
#   user 3: train 10 20 40, test 50 -> 30(1) 60(1) 50(0): rank 3
#   user 4: train 60,       test 50 -> 10 20 30 40 50: rank 5
# k = 3: hits 1, 1, 1, 0.


class TopK(unittest.TestCase):
    def setUp(self):
        self.train, self.test = hand_dataset().split("temporal:0.2")
        self.model = recint.Model("pop").fit(self.train)

    def test_keys_and_hand_values(self):
        got = recint.evaluate(self.model, self.train, self.test, k=3)
        self.assertEqual(set(got), {"precision", "recall", "ndcg", "map", "hit_rate", "auc",
                                    "coverage", "users"})
        self.assertEqual(got["users"], 4)
        self.assertIsInstance(got["users"], int)
        self.assertAlmostEqual(got["precision"], 3 / 3 / 4, places=6)
        self.assertAlmostEqual(got["recall"], 0.75, places=6)
        self.assertAlmostEqual(got["hit_rate"], 0.75, places=6)
        # NDCG: 1, 1/log2(4), 1/log2(4), 0 (one test item each, so the ideal DCG is 1)
        self.assertAlmostEqual(got["ndcg"], (1 + 0.5 + 0.5) / 4, places=6)
        # AUC with ties as 1/2: user 1 (1 + .5)/2, user 2 (0 + .5 + 1 + .5)/4, users 3, 4: 0
        self.assertAlmostEqual(got["auc"], (0.75 + 0.5) / 4, places=6)
        self.assertTrue(0 < got["coverage"] <= 1)
        self.assertTrue(0 < got["map"] <= 1)

    def test_k_defaults_to_the_library_parameter(self):
        self.assertEqual(recint.evaluate(self.model, self.train, self.test),
                         recint.evaluate(self.model, self.train, self.test, k=10))

    def test_params_are_checked(self):
        with self.assertRaises(recint.NotFoundError):
            recint.evaluate(self.model, self.train, self.test, k=3, thread=1)
        got = recint.evaluate(self.model, self.train, self.test, k=3, threads=1)
        self.assertAlmostEqual(got["recall"], 0.75, places=6)

    def test_unfitted_model(self):
        with self.assertRaises(recint.StateError):
            recint.evaluate(recint.Model("pop"), self.train, self.test)


class NextItem(unittest.TestCase):
    def test_keys_and_full_ranking_values(self):
        train, test = hand_dataset().split("temporal:0.2")
        model = recint.Model("pop").fit(train)
        got = recint.evaluate_next(model, train, test, k=3, eval_samples=5, seed=1)
        self.assertEqual(set(got), {"full_hr", "full_ndcg", "sampled_hr", "sampled_ndcg",
                                    "users"})
        self.assertEqual(got["users"], 4)
        self.assertAlmostEqual(got["full_hr"], 0.75, places=6)
        self.assertAlmostEqual(got["full_ndcg"], (1 + 0.5 + 0.5) / 4, places=6)
        for key in ("sampled_hr", "sampled_ndcg"):
            self.assertTrue(0 <= got[key] <= 1 and not math.isnan(got[key]), key)
        again = recint.evaluate_next(model, train, test, k=3, eval_samples=5, seed=1)
        self.assertEqual(got, again)
