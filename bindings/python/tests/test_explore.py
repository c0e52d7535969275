import math
import unittest

import recint
from support import TmpDirCase, tolist


def line_model(scores):
    """One user (1, 0); item i is (score_i, 0): the greedy order is known."""
    return recint.Model.from_factors([[1.0, 0.0]], [[s, 0.0] for s in scores])


class Explore(TmpDirCase):
    def test_epsilon_propensities_by_hand(self):
        s = [0.5, 0.9, 0.1, 0.7]
        ex = recint.Explorer(line_model(s), policy="epsilon", epsilon=0.4, candidates=4)
        for _ in range(20):
            items, props = ex.recommend(0, k=2)
            items, props = tolist(items), tolist(props)
            self.assertEqual(len(items), 2)
            best0 = max(range(4), key=lambda i: s[i])
            self.assertAlmostEqual(props[0], 0.4 / 4 + (0.6 if items[0] == best0 else 0.0),
                                   places=12)
            rest = [i for i in range(4) if i != items[0]]
            best1 = max(rest, key=lambda i: s[i])
            self.assertAlmostEqual(props[1], 0.4 / 3 + (0.6 if items[1] == best1 else 0.0),
                                   places=12)

    def test_log_replay_and_evaluate(self):
        m = recint.Model.from_factors([[0.1 * u, 0.3, -0.2] for u in range(6)],
                                      [[math.sin(i), math.cos(i), 0.1 * i] for i in range(40)])
        ex = recint.Explorer(m, policy="thompson", candidates=15, seed=3)
        ex.set_logging()
        for t in range(5):
            for u in range(6):
                items, _ = ex.recommend(u, k=3)
                for i in tolist(items):
                    ex.observe(u, i, 1.0 if (i + t) % 3 == 0 else 0.0)
        self.assertEqual(ex.log_size, 5 * 6 * 3)
        path = self.path("explore.log")
        ex.save_log(path)
        fresh = recint.Explorer(m, policy="thompson", candidates=15, seed=3)
        self.assertEqual(fresh.replay(path), 0)
        other = recint.Explorer(m, policy="thompson", candidates=15, seed=4)
        self.assertGreater(other.replay(path), 0)
        target = recint.Explorer(m, policy="greedy", candidates=15)
        for est in ("ips", "snips", "dr"):
            v = target.evaluate(path, est)
            self.assertLessEqual(v["ci"][0], v["estimate"])
            self.assertLessEqual(v["estimate"], v["ci"][1])
        with self.assertRaises(ValueError):
            target.evaluate(path, "nope")
        # The text form: one line per record after two header lines, the same
        # replay and the same estimates as the binary one.
        tpath = self.path("explore.tsv")
        ex.save_log(tpath, text=True)
        with open(tpath) as f:
            lines = f.read().splitlines()
        self.assertTrue(lines[0].startswith("# recint-explore-log 1 "))
        self.assertEqual(len(lines), 2 + 5 * 6 * 3)
        self.assertEqual(len(lines[2].split("\t")), 7)
        self.assertEqual(recint.Explorer(m, policy="thompson", candidates=15, seed=3)
                         .replay(tpath), 0)
        for est in ("ips", "snips", "dr"):
            self.assertEqual(target.evaluate(path, est), target.evaluate(tpath, est))

    def test_errors(self):
        ex = recint.Explorer(line_model([0.2, 0.4]))
        with self.assertRaises(recint.InvalidArgumentError):
            ex.observe(0, 1, float("nan"))
        with self.assertRaises(recint.RangeError):
            ex.recommend(5, k=1)
        with self.assertRaises(recint.InvalidArgumentError):
            recint.Explorer(line_model([0.2]), policy="nope")
        with self.assertRaises(recint.StateError):
            recint.Explorer(recint.Model("pop"))

    def test_simulate(self):
        p = dict(sim_users=100, sim_items=200, sim_clusters=10, sim_rounds=4, dim=8,
                 iterations=3, candidates=40, k=5, threads=1)
        r = recint.simulate(policy="greedy", per_round=True, **p)
        self.assertEqual(set(recint._explore.SIM_KEYS) | {"per_round"}, set(r))
        self.assertEqual(r["rounds"], 4)
        self.assertEqual(len(r["per_round"]), 4)
        self.assertEqual(r["per_round"][-1]["regret"], r["regret"])
        self.assertEqual(recint.simulate(policy="greedy", **p)["regret"], r["regret"])
        o = recint.simulate_ope(self.path("ope.log"), policy="greedy", sim_ope_rounds=3, **p)
        self.assertGreater(o["true_value"], 0.0)
        self.assertIn("dr", o)


if __name__ == "__main__":
    unittest.main()
