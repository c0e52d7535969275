"""Lifetimes: no sequence of binding calls reaches freed C memory.

The rule (docs/python.md, "Object lifetimes"): whatever borrows a C object keeps
it alive; a change of an object that something reads (an explorer reads its model,
zero-copy views read their dataset) raises StateError; close() retires the wrapper
only, and the C free waits for the last borrower, in any garbage-collection order.
Run under AddressSanitizer by tests/python-asan.sh, where a dangling read fails.
"""

import ctypes
import gc
import unittest
import weakref

import recint
from recint._handle import Handle
from support import NUMPY_BLOCKED, hand_dataset, tolist
from test_als import PARAMS, lcg_dataset


def fitted():
    return recint.ALSModel(**PARAMS).fit(lcg_dataset())


def other_data():
    return lcg_dataset(n_users=25, n_items=20, seed=11)


def greedy(model):
    return recint.Explorer(model, policy="greedy", candidates=10)


class RefitUnderExplorer(unittest.TestCase):
    """D5: an explorer keeps pointers into its model's vectors; a refit freed them."""

    def test_d5_as_reported(self):
        m = fitted()
        expected = tolist(m.recommend(0, k=5)[0])
        e = recint.Explorer(m)
        refused = None
        try:
            m.fit(other_data())
        except recint.StateError as exc:
            refused = exc
        items, props = e.recommend(0)  # read freed vectors when the refit was allowed
        self.assertIsNotNone(refused, "the refit under the explorer was not refused")
        self.assertEqual(refused.code, -6)
        self.assertEqual(str(refused),
                         "ALSModel.fit: the model is in use by 1 explorer; close the explorer "
                         "first (or fit a new model instead)")
        self.assertEqual(len(tolist(items)), 10)
        self.assertEqual(m.n_users, 40)  # the refused fit changed nothing
        self.assertEqual(tolist(m.recommend(0, k=5)[0]), expected)

    def test_greedy_slate_is_the_model_ranking_after_a_refused_refit(self):
        m = fitted()
        e = greedy(m)
        e2 = greedy(m)
        before = tolist(m.recommend(0, k=5)[0])
        with self.assertRaises(recint.StateError) as cm:
            m.fit(other_data())
        self.assertIn("in use by 2 explorers", str(cm.exception))
        self.assertEqual(tolist(e.recommend(0, k=5)[0]), before)
        e.close()
        with self.assertRaises(recint.StateError) as cm:
            m.fit(other_data())
        self.assertIn("in use by 1 explorer;", str(cm.exception))
        del e2  # no reference cycle: released at once, no gc needed
        m.fit(other_data())
        self.assertEqual((m.n_users, m.n_items), (25, 20))
        self.assertEqual(tolist(greedy(m).recommend(0, k=5)[0]), tolist(m.recommend(0, k=5)[0]))

    def test_every_change_of_the_model_is_refused(self):
        m = fitted()
        trainer = recint.Trainer(m, threads=1)  # made before the explorer
        e = greedy(m)
        more = recint.Dataset.from_arrays([1000, 99999], [5000, 5001])
        calls = [("Trainer.fit", lambda: trainer.fit(other_data())),
                 ("ALSModel.partial_fit_users", lambda: m.partial_fit_users(more)),
                 ("ALSModel.partial_fit_items",
                  lambda: m.partial_fit_items(recint.Dataset.from_arrays([1000], [5000])))]
        for what, call in calls:
            with self.assertRaises(recint.StateError) as cm:
                call()
            self.assertTrue(str(cm.exception).startswith(what + ": the model is in use by 1 "
                                                                "explorer"), str(cm.exception))
        self.assertEqual(m.n_users, 40)
        e.close()
        trainer.fit(other_data())
        self.assertEqual(m.n_users, 25)

    def test_hybrid_changes_are_refused(self):
        train = lcg_dataset()
        m = recint.HybridModel(dim=4, epochs=2, threads=1, seed=1).fit(train)
        e = greedy(m)
        for what, call in (("HybridModel.fit", lambda: m.fit(train)),
                           ("HybridModel.fit_partial", lambda: m.fit_partial(train, epochs=1)),
                           ("HybridModel.set_features",
                            lambda: m.set_features(item_features=recint.Features.identity(30)))):
            with self.assertRaises(recint.StateError) as cm:
                call()
            self.assertTrue(str(cm.exception).startswith(what + ":"), str(cm.exception))
        self.assertEqual(tolist(e.recommend(0, k=3)[0]), tolist(m.recommend(0, k=3)[0]))

    def test_explorer_keeps_working_after_model_close(self):
        m = fitted()
        expected = tolist(m.recommend(3, k=4)[0])
        e = greedy(m)
        m.close()
        del m
        gc.collect()
        self.assertEqual(tolist(e.recommend(3, k=4)[0]), expected)
        self.assertTrue(e.model.closed)
        e.observe(3, expected[0], 1.0)
        e.close()
        with self.assertRaises(recint.StateError):
            e.recommend(3)

    def test_a_trainer_of_a_closed_model_still_sees_explorers(self):
        m = fitted()
        trainer = recint.Trainer(m, threads=1)
        e = greedy(m)
        m.close()
        with self.assertRaises(recint.StateError):
            trainer.fit(other_data())
        self.assertEqual(len(tolist(e.recommend(0, k=5)[0])), 5)


class DuringFit(unittest.TestCase):
    """A progress callback runs Python code in the middle of a fit."""

    def test_closing_the_training_data_from_the_callback(self):
        train = lcg_dataset()
        expected = recint.ALSModel(**PARAMS).fit(lcg_dataset())

        def progress(step, steps, loss):
            train.close()  # retires the wrapper; the running fit keeps the C dataset
            gc.collect()

        m = recint.ALSModel(**PARAMS).fit(train, progress=progress)
        self.assertTrue(train.closed)
        self.assertEqual(tolist(m.score([0, 5])), tolist(expected.score([0, 5])))

    def test_changing_the_training_data_from_the_callback(self):
        train = lcg_dataset()
        m = recint.ALSModel(**PARAMS)

        def progress(step, steps, loss):
            train.add([1], [2])

        n = train.n_interactions
        with self.assertRaises(recint.StateError) as cm:
            m.fit(train, progress=progress)
        self.assertEqual(str(cm.exception),
                         "Dataset.add: the dataset is in use by a running ALSModel.fit; change "
                         "it after ALSModel.fit returns")
        self.assertEqual(m.n_items, 0)  # canceled: still unfitted
        train.add([1], [2])  # allowed again once the fit returned
        self.assertEqual(train.n_interactions, n + 1)

    def test_the_model_being_fitted_is_busy(self):
        m = fitted()
        seen = []

        def progress(step, steps, loss):
            for call in (lambda: m.recommend(0), lambda: recint.Explorer(m),
                         lambda: m.fit(other_data())):
                try:
                    call()
                except recint.StateError as exc:
                    seen.append(str(exc))

        m.fit(other_data(), progress=progress)
        self.assertEqual(seen[:3], ["ALSModel is busy: ALSModel.fit is running on it (e.g. from "
                                    "its progress callback)"] * 3)
        self.assertEqual(m.n_users, 25)
        self.assertEqual(len(tolist(m.recommend(0, k=3)[0])), 3)  # usable again

    def test_closing_the_trainer_from_the_callback(self):
        m = recint.ALSModel(**PARAMS)
        trainer = recint.Trainer(m, threads=1)
        trainer.fit(lcg_dataset(), progress=lambda *a: trainer.close())
        self.assertTrue(trainer.closed)
        self.assertEqual(m.n_users, 40)
        with self.assertRaises(recint.StateError):
            trainer.fit(lcg_dataset())

    def test_closing_the_model_from_the_callback(self):
        m = recint.ALSModel(**PARAMS)
        m.fit(lcg_dataset(), progress=lambda *a: m.close())
        self.assertTrue(m.closed)


@unittest.skipIf(NUMPY_BLOCKED, "zero-copy views need numpy")
class Views(unittest.TestCase):
    def test_views_survive_close_of_their_dataset(self):
        ds = hand_dataset()
        csr, csc = ds.csr(copy=False, timestamps=True), ds.csc(copy=False)
        want_csr, want_csc = ds.csr(timestamps=True), ds.csc()
        ds.close()
        del ds
        gc.collect()
        for view, want in zip(csr + csc, want_csr + want_csc):
            self.assertEqual(view.tolist(), want.tolist())

    def test_refit_while_a_view_exists(self):
        train = lcg_dataset()
        indptr, items, weights = train.csr(copy=False)
        want = [a.tolist() for a in train.csr()]
        m = recint.ALSModel(**PARAMS).fit(train)
        m.fit(train)  # a fit only reads its data: views stay valid
        self.assertEqual([indptr.tolist(), items.tolist(), weights.tolist()], want)
        with self.assertRaises(recint.StateError) as cm:
            train.reserve_ids(users=[123456])
        self.assertEqual(str(cm.exception),
                         "Dataset.reserve_ids: the dataset is in use by zero-copy views from "
                         "csr(copy=False)/csc(copy=False); delete them first or use copy=True")
        tail = items[-3:]
        del indptr, items, weights
        with self.assertRaises(recint.StateError):
            train.add([1], [2])  # a slice keeps the views' anchor
        self.assertEqual(tail.tolist(), want[1][-3:])
        del tail
        train.add([1], [2])
        self.assertEqual(train.n_interactions, len(want[1]) + 1)


class GarbageCollection(unittest.TestCase):
    def test_borrower_is_freed_before_what_it_borrows_in_any_order(self):
        """A cycle is finalized in no fixed order; the lender's free must wait."""
        bufs = [ctypes.create_string_buffer(8) for _ in range(2)]
        order = []

        class Lender(Handle):
            _free_fn = staticmethod(lambda p: order.append("lender"))

        class Borrower(Handle):
            _free_fn = staticmethod(lambda p: order.append("borrower"))

        for variant in range(4):
            order.clear()
            a = Lender(ctypes.cast(bufs[0], ctypes.c_void_p))
            b = Borrower(ctypes.cast(bufs[1], ctypes.c_void_p), deps=(a._owner,))
            if variant & 1:
                a.peer, b.peer = b, a
            else:
                b.peer, a.peer = a, b
            if variant & 2:
                del a, b
            else:
                del b, a
            gc.collect()
            self.assertEqual(order, ["borrower", "lender"], "variant %d" % variant)

    def test_del_orders_with_cycles(self):
        """Explorer, trainer and model, each garbage only for the cyclic collector,
        deleted in every order: what is left keeps working, and in the end every C
        object is freed."""
        orders = [("e", "m", "t"), ("e", "t", "m"), ("m", "e", "t"), ("m", "t", "e"),
                  ("t", "e", "m"), ("t", "m", "e")]
        train = lcg_dataset()
        for order in orders:
            m = recint.ALSModel(**PARAMS).fit(train)
            want = tolist(m.recommend(1, k=3)[0])
            objs = {"e": greedy(m), "m": m, "t": recint.Trainer(m, threads=1)}
            del m
            owners = [weakref.ref(o._owner) for o in objs.values()]
            for name in objs:
                objs[name].cycle = objs[name]
            for name in order:
                probe = weakref.ref(objs.pop(name))
                gc.collect()
                if name != "m" or not objs:  # the explorer and the trainer keep .model
                    self.assertIsNone(probe(), (order, name))
                if "e" in objs:
                    self.assertEqual(tolist(objs["e"].recommend(1, k=3)[0]), want)
                elif "t" in objs:
                    objs["t"].fit(train)
                elif "m" in objs:
                    objs["m"].fit(train)
            self.assertEqual([o() for o in owners], [None] * 3, order)

    def test_one_cycle_through_everything(self):
        train = lcg_dataset()
        m = recint.ALSModel(**PARAMS).fit(train)
        e, t = greedy(m), recint.Trainer(m, threads=1)
        views = train.csr(copy=False)
        m.cycle, e.cycle, t.cycle, train.cycle = (e, t, views), m, train, (m, views)
        owners = [weakref.ref(o._owner) for o in (m, e, t, train)]
        del m, e, t, train, views
        gc.collect()
        self.assertEqual([o() for o in owners], [None] * 4)

    def test_wrappers_without_cycles_go_at_once(self):
        m = fitted()
        users = m.users
        probe = weakref.ref(m)
        del m
        self.assertIsNotNone(probe())  # the lookup keeps its model
        self.assertEqual(users.index(1000), 0)
        del users
        self.assertIsNone(probe())  # no collection needed

    def test_a_pointer_for_a_call_keeps_its_object(self):
        ds = hand_dataset()
        p = ds._p
        ds.close()
        gc.collect()
        self.assertEqual(recint._lib.lib.recint_dataset_n_interactions(p), 12)

    def test_lookups_of_a_closed_dataset_raise(self):
        ds = hand_dataset()
        users = ds.users
        ds.close()
        with self.assertRaises(recint.StateError):
            users.index(1)


if __name__ == "__main__":
    unittest.main()
