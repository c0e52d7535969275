"""PROTOCOLS.md P1 popularity row on MovieLens 100K (skipped without the data)."""

import unittest

import recint
from support import datasets_file

U_DATA = datasets_file("ml-100k/u.data")


@unittest.skipIf(U_DATA is None, "ml-100k/u.data not found under $RECINT_DATASETS (under meson "
                 "test: meson configure BUILD -Ddatasets_dir=DIR)")
class P1Popularity(unittest.TestCase):
    def test_pop_reproduces_the_protocol_numbers(self):
        data = recint.Dataset.load(U_DATA)
        self.assertEqual((data.n_users, data.n_items, data.n_interactions), (943, 1682, 100000))
        positives = data.filter(min_weight=4)
        train, test = positives.split("temporal:0.2")
        self.assertEqual((train.n_interactions, test.n_interactions), (43929, 11446))
        model = recint.Model("pop").fit(train)
        got = recint.evaluate(model, train, test, k=10)
        self.assertEqual(got["users"], 942)
        self.assertAlmostEqual(got["precision"], 0.0627, delta=0.00005)
        self.assertAlmostEqual(got["recall"], 0.0598, delta=0.00005)
        self.assertAlmostEqual(got["ndcg"], 0.0797, delta=0.00005)
        self.assertAlmostEqual(got["auc"], 0.8272, delta=0.00005)
