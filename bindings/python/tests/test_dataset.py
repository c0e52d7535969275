import gc
import math
import unittest

import recint
from support import (HAND_ROWS, NUMPY_BLOCKED, TmpDirCase, hand_dataset, input_variants, np,
                     tolist)


class FromArrays(unittest.TestCase):
    def test_hand_example_counts_ids_and_csr(self):
        ds = hand_dataset()
        self.assertEqual((ds.n_users, ds.n_items, ds.n_interactions), (4, 6, 12))
        self.assertEqual(len(ds), 12)
        self.assertEqual(ds.user_ids(), [1, 2, 3, 4])
        self.assertEqual(ds.item_ids(), [10, 20, 30, 40, 50, 60])
        self.assertEqual(ds.user_index(3), 2)
        self.assertEqual(ds.item_index(50), 4)
        self.assertEqual(ds.item_id(5), 60)
        self.assertEqual(ds.users.kind, "int")
        indptr, indices, weights, stamps = ds.csr(timestamps=True)
        self.assertEqual(tolist(indptr), [0, 4, 6, 10, 12])
        self.assertEqual(tolist(indices), [0, 1, 2, 3, 0, 3, 0, 1, 3, 4, 4, 5])
        self.assertEqual(tolist(weights), [1.0] * 12)
        self.assertEqual(tolist(stamps), [1, 2, 3, 4, 1, 2, 1, 2, 3, 4, 2, 1])
        c_indptr, c_users, _ = ds.csc()
        self.assertEqual(tolist(c_indptr), [0, 3, 5, 6, 9, 11, 12])
        self.assertEqual(tolist(c_users), [0, 1, 2, 0, 2, 0, 0, 1, 2, 2, 3, 3])

    def test_new_ids_are_numbered_in_ascending_order_within_a_call(self):
        ds = recint.Dataset.from_arrays([5, 3, 9], [7, 1, 7])
        self.assertEqual(ds.user_ids(), [3, 5, 9])
        self.assertEqual(ds.item_ids(), [1, 7])
        ds.add([1], [0])  # a later call appends new ids after the old ones
        self.assertEqual(ds.user_ids(), [3, 5, 9, 1])
        self.assertEqual(ds.item_ids(), [1, 7, 0])

    def test_every_input_form_gives_the_same_dataset(self):
        users = [r[0] for r in HAND_ROWS]
        items = [r[1] for r in HAND_ROWS]
        weights = [0.5 + i for i in range(len(HAND_ROWS))]
        stamps = [r[2] for r in HAND_ROWS]
        expect = None
        for (label, u), (_, i), (_, w), (_, t) in zip(input_variants(users, "q"),
                                                       input_variants(items, "q"),
                                                       input_variants(weights, "f"),
                                                       input_variants(stamps, "q")):
            with self.subTest(form=label):
                ds = recint.Dataset.from_arrays(u, i, weights=w, timestamps=t)
                got = [tolist(a) for a in ds.csr(timestamps=True)]
                if expect is None:
                    expect = got
                self.assertEqual(got, expect)
        self.assertEqual(expect[2][:4], [0.5, 1.5, 2.5, 3.5])

    def test_converted_inputs(self):
        # double weights and generator ids are converted once
        ds = recint.Dataset.from_arrays((u for u in [1, 2]), iter([3, 4]),
                                        weights=[0.25, 2.0])
        self.assertEqual(tolist(ds.csr()[2]), [0.25, 2.0])
        if np is not None:
            ds = recint.Dataset.from_arrays(np.array([1, 2], dtype=np.int32),
                                            np.array([3, 4], dtype=np.uint16),
                                            weights=np.array([0.25, 2.0]))
            self.assertEqual(ds.item_ids(), [3, 4])
            self.assertEqual(tolist(ds.csr()[2]), [0.25, 2.0])

    def test_string_ids(self):
        ds = recint.Dataset.from_arrays(["bob", "alice", "bob", "zoë"], ["x", "y", "y", "x"],
                                        weights=[1, 2, 3, 4])
        self.assertEqual(ds.users.kind, "str")
        self.assertEqual(ds.user_ids(), ["alice", "bob", "zoë"])
        self.assertEqual(ds.item_ids(), ["x", "y"])
        self.assertEqual(ds.user_index("zoë"), 2)
        self.assertEqual(ds.user_index(b"bob"), 1)
        self.assertEqual(ds.user_id(0), "alice")
        self.assertEqual(tolist(ds.csr()[0]), [0, 1, 3, 4])
        if np is not None:
            ds2 = recint.Dataset.from_arrays(np.array(["b", "a"]), np.array(["i", "j"]))
            self.assertEqual(ds2.user_ids(), ["a", "b"])

    def test_mixed_or_mismatched_ids(self):
        with self.assertRaises(TypeError):
            recint.Dataset.from_arrays([1, "a"], [1, 2])
        with self.assertRaises(TypeError):
            recint.Dataset.from_arrays(["a", "b"], [1, 2])
        with self.assertRaises(TypeError):
            recint.Dataset.from_arrays([1.5, 2.0], [1, 2])
        with self.assertRaises(ValueError):
            recint.Dataset.from_arrays([1, 2, 3], [1, 2])
        with self.assertRaises(ValueError):
            recint.Dataset.from_arrays([1, 2], [1, 2], weights=[1.0])
        with self.assertRaises(ValueError):
            recint.Dataset.from_arrays(["a\0b"], ["c"])
        with self.assertRaises(recint.RangeError):
            recint.Dataset.from_arrays([1 << 64], [1])

    def test_string_dataset_refuses_int_ids(self):
        ds = recint.Dataset.from_arrays(["a"], ["b"])
        with self.assertRaises(recint.StateError) as cm:
            ds.add([1], [2])
        self.assertTrue(str(cm.exception))
        self.assertEqual(ds.n_interactions, 1)

    def test_nan_weight_is_refused_by_c_and_nothing_changes(self):
        ds = recint.Dataset.from_arrays([1], [1])
        with self.assertRaises(recint.InvalidArgumentError) as cm:
            ds.add([2, 3], [1, 1], weights=[1.0, math.nan])
        self.assertTrue(str(cm.exception))
        self.assertEqual((ds.n_users, ds.n_interactions), (1, 1))

    def test_duplicates_policy(self):
        self.assertEqual(tolist(recint.Dataset.from_arrays([1, 1], [2, 2], weights=[1, 3])
                                .csr()[2]), [4.0])
        self.assertEqual(tolist(recint.Dataset.from_arrays([1, 1], [2, 2], weights=[1, 3],
                                                           duplicates="max").csr()[2]), [3.0])

    def test_reserve_ids(self):
        ds = hand_dataset()
        ds.reserve_ids(users=[100], items=[7, 8])
        self.assertEqual((ds.n_users, ds.n_items, ds.n_interactions), (5, 8, 12))
        self.assertEqual(ds.user_id(4), 100)

    def test_reserve_string_ids(self):
        ds = recint.Dataset.from_arrays(["bob"], ["tea"])
        ds.reserve_ids(users=["zoe", "amy"], items=["coffee"])
        self.assertEqual((ds.n_users, ds.n_items, ds.n_interactions), (3, 2, 1))
        self.assertEqual(ds.user_index("amy"), 1)
        with self.assertRaises(recint.StateError):
            ds.reserve_ids(users=[5])

    def test_with_catalogue(self):
        base = recint.Dataset.from_arrays([7, 3], [40, 20])
        ds = recint.Dataset.with_catalogue(base)
        self.assertEqual((ds.n_users, ds.n_items, ds.n_interactions), (2, 2, 0))
        ds.add([7, 9], [20, 40])
        self.assertEqual(ds.user_index(7), base.user_index(7))
        self.assertEqual(ds.item_index(20), base.item_index(20))
        self.assertEqual(ds.user_index(9), 2)
        self.assertEqual(base.n_users, 2)

    def test_unknown_id_and_index(self):
        ds = hand_dataset()
        with self.assertRaises(KeyError) as cm:
            ds.user_index(99)
        self.assertIsInstance(cm.exception, recint.NotFoundError)
        with self.assertRaises(IndexError) as cm:
            ds.user_id(4)
        self.assertIsInstance(cm.exception, recint.RangeError)
        with self.assertRaises(IndexError):
            ds.item_id(-1)


class Files(TmpDirCase):
    def write(self, name, text):
        path = self.path(name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_load_tab_file(self):
        path = self.write("d.tsv", "1\t10\t5\t100\n1\t20\t3\t101\n2\t10\t4\t102\n")
        ds = recint.Dataset.load(path)
        self.assertEqual((ds.n_users, ds.n_items, ds.n_interactions), (2, 2, 3))
        self.assertEqual(tolist(ds.csr()[2]), [5.0, 3.0, 4.0])
        self.assertEqual(tolist(ds.csr(timestamps=True)[3]), [100, 101, 102])

    def test_load_csv_with_header_and_params(self):
        path = self.write("d.csv", "u,i,r,t\na,x,5,1\nb,y,2,2\n")
        ds = recint.Dataset.load(path, delimiter="comma", header="yes")
        self.assertEqual(ds.user_ids(), ["a", "b"])
        self.assertEqual(tolist(ds.csr()[2]), [5.0, 2.0])

    def test_from_text(self):
        ds = recint.Dataset.from_text("1::2::3::4\n", delimiter="ml")
        self.assertEqual((ds.n_users, ds.n_items), (1, 1))

    def test_missing_file(self):
        missing = self.path("nope.tsv")
        with self.assertRaises(OSError) as cm:
            recint.Dataset.load(missing)
        self.assertIsInstance(cm.exception, recint.RecintIOError)
        self.assertIn("nope.tsv", str(cm.exception))

    def test_malformed_line_names_file_and_line(self):
        path = self.write("bad.tsv", "1\t10\t5\t100\n1\t20\tfive\t101\n")
        with self.assertRaises(recint.FormatError) as cm:
            recint.Dataset.load(path)
        self.assertIn("bad.tsv:2", str(cm.exception))

    def test_save_load_round_trip(self):
        for ds in (hand_dataset(), recint.Dataset.from_arrays(["a", "b"], ["x y", "z"],
                                                              weights=[0.5, 2.0])):
            with self.subTest(kind=ds.users.kind):
                path = self.path("saved-%s.tsv" % ds.users.kind)
                ds.save(path)
                back = recint.Dataset.load(path)
                self.assertEqual(back.user_ids(), ds.user_ids())
                self.assertEqual(back.item_ids(), ds.item_ids())
                self.assertEqual([tolist(a) for a in back.csr(timestamps=True)],
                                 [tolist(a) for a in ds.csr(timestamps=True)])

    def test_save_to_bad_path(self):
        with self.assertRaises(recint.RecintIOError):
            hand_dataset().save(self.path("no/such/dir/x.tsv"))


class Derived(unittest.TestCase):
    def ratings(self):
        # (user: item=weight) 1: 1=5 2=3 3=4; 2: 1=4 2=2; 3: 3=1
        return recint.Dataset.from_arrays([1, 1, 1, 2, 2, 3], [1, 2, 3, 1, 2, 3],
                                          weights=[5, 3, 4, 4, 2, 1])

    def test_filter_min_weight(self):
        kept = self.ratings().filter(min_weight=4)
        self.assertEqual((kept.n_users, kept.n_items, kept.n_interactions), (3, 3, 3))
        indptr, indices, weights = kept.csr()
        self.assertEqual(tolist(indptr), [0, 2, 3, 3])
        self.assertEqual(tolist(indices), [0, 2, 0])
        self.assertEqual(tolist(weights), [1.0, 1.0, 1.0])
        raw = self.ratings().filter(min_weight=4, implicit=False)
        self.assertEqual(tolist(raw.csr()[2]), [5.0, 4.0, 4.0])

    def test_filter_k_core(self):
        self.assertEqual(self.ratings().filter(min_user_interactions=2).n_interactions, 5)
        core = self.ratings().filter(min_user_interactions=2, min_item_interactions=2)
        self.assertEqual(core.n_interactions, 4)
        self.assertEqual(tolist(core.csr()[1]), [0, 1, 0, 1])

    def test_reweight(self):
        ds = self.ratings()
        logged = ds.reweight("log1p")
        self.assertEqual(tolist(logged.csr()[1]), tolist(ds.csr()[1]))
        for got, w in zip(tolist(logged.csr()[2]), [5, 3, 4, 4, 2, 1]):
            self.assertAlmostEqual(got, math.log1p(w), places=6)
        # every item is held by 2 of the 3 users: idf = ln 3 - ln 3 = 0
        self.assertEqual(tolist(ds.reweight("tfidf").csr()[2]), [0.0] * 6)
        # and bm25 scales by the same idf (k1 = 0: each weight is its idf)
        self.assertEqual(tolist(ds.reweight("bm25", bm25_k1=0).csr()[2]), [0.0] * 6)
        self.assertEqual(tolist(ds.reweight("none").csr()[2]), [5.0, 3.0, 4.0, 4.0, 2.0, 1.0])
        with self.assertRaises(recint.InvalidArgumentError):
            ds.reweight("sqrt")
        with self.assertRaises(recint.InvalidArgumentError):
            recint.Dataset.from_arrays([1], [1], weights=[-1]).reweight("log1p")

    def split_data(self):
        # user 7: items 1..6 with timestamps 6..1 (latest = item 1); user 8: 3 rows
        users = [7] * 6 + [8] * 3
        items = [1, 2, 3, 4, 5, 6, 1, 2, 3]
        stamps = [6, 5, 4, 3, 2, 1, 1, 2, 3]
        return recint.Dataset.from_arrays(users, items, timestamps=stamps)

    def test_temporal_split(self):
        train, test = self.split_data().split("temporal:0.2")
        self.assertEqual((train.n_interactions, test.n_interactions), (6, 3))
        self.assertEqual((test.n_users, test.n_items), (2, 6))  # catalogue shared
        indptr, indices, _ = test.csr()
        self.assertEqual(tolist(indptr), [0, 2, 3])
        self.assertEqual(tolist(indices), [0, 1, 2])  # items 1, 2 of user 7; item 3 of 8

    def test_loo_split_with_and_without_validation(self):
        train, valid, test = self.split_data().split("loo", valid=True)
        self.assertEqual((train.n_interactions, valid.n_interactions, test.n_interactions),
                         (7, 1, 1))
        self.assertEqual(tolist(test.csr()[1]), [0])
        self.assertEqual(tolist(valid.csr()[1]), [1])
        train, test = self.split_data().split("loo")
        self.assertEqual((train.n_interactions, test.n_interactions), (8, 1))

    def test_random_split_is_seeded(self):
        data = recint.Dataset.from_arrays([u for u in range(20) for _ in range(5)],
                                          [i for _ in range(20) for i in range(5)])
        a_train, a_test = data.split("random:0.3", seed=5)
        b_train, b_test = data.split("random:0.3", seed=5)
        self.assertEqual(a_train.n_interactions + a_test.n_interactions, 100)
        self.assertGreater(a_test.n_interactions, 0)
        self.assertEqual([tolist(x) for x in a_test.csr()], [tolist(x) for x in b_test.csr()])

    def test_bad_split_spec(self):
        with self.assertRaises(recint.InvalidArgumentError) as cm:
            self.split_data().split("sideways:3")
        self.assertIn("sideways", str(cm.exception))

    def test_synthetic(self):
        params = dict(syn_users=50, syn_items=200, syn_interactions=400, syn_clusters=3,
                      syn_feature_dim=4, seed=3, threads=1)
        ds = recint.Dataset.synthetic(**params)
        self.assertEqual((ds.n_users, ds.n_items, ds.n_interactions), (50, 200, 400))
        again, feats = recint.Dataset.synthetic_with_features(**params)
        self.assertEqual([tolist(a) for a in ds.csr()], [tolist(a) for a in again.csr()])
        self.assertEqual(feats.shape, (200, 3 + 4))
        self.assertEqual(len(tolist(feats.row(0))), 7)
        other = recint.Dataset.synthetic(**dict(params, seed=4))
        self.assertNotEqual(tolist(other.csr()[1]), tolist(ds.csr()[1]))


class Ownership(unittest.TestCase):
    def test_close_is_idempotent_and_blocks_use(self):
        ds = hand_dataset()
        ds.close()
        ds.close()
        self.assertTrue(ds.closed)
        with self.assertRaises(recint.StateError):
            ds.n_users
        with self.assertRaises(recint.StateError):
            ds.user_index(1)

    def test_context_manager(self):
        with hand_dataset() as ds:
            self.assertEqual(ds.n_users, 4)
        self.assertTrue(ds.closed)

    @unittest.skipIf(NUMPY_BLOCKED, "zero-copy views need numpy")
    def test_zero_copy_views_keep_memory_and_block_changes(self):
        ds = hand_dataset()
        indptr, indices, weights = ds.csr(copy=False)
        self.assertFalse(indices.flags.writeable)
        with self.assertRaises(ValueError):
            indices[0] = 3
        with self.assertRaises(recint.StateError):
            ds.add([9], [9])
        ds.close()  # the C dataset stays alive for the views
        gc.collect()
        self.assertEqual(indices.tolist(), [0, 1, 2, 3, 0, 3, 0, 1, 3, 4, 4, 5])
        self.assertEqual(indptr.tolist(), [0, 4, 6, 10, 12])
        ds2 = hand_dataset()
        view = ds2.csr(copy=False)[1][2:5]
        with self.assertRaises(recint.StateError):
            ds2.add([9], [9])
        del view
        gc.collect()
        ds2.add([9], [9])
        self.assertEqual(ds2.n_interactions, 13)

    def test_copies_are_independent(self):
        ds = hand_dataset()
        indptr, indices, _ = ds.csr()
        ds.add([9], [9])
        ds.close()
        self.assertEqual(tolist(indptr), [0, 4, 6, 10, 12])
