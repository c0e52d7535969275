#!/usr/bin/env python3
"""Cumulative regret of greedy, epsilon-greedy, LinUCB and Thompson sampling in
the exploration simulator: explore_regret.png when matplotlib is available, a
text table otherwise.

usage: PYTHONPATH=bindings/python python3 examples/explore_plot.py [key=value ...]
"""

import sys

import recint

POLICIES = ("greedy", "epsilon", "linucb", "thompson")


def main(argv):
    params = dict(candidates=100)
    for pair in argv:
        key, _, value = pair.partition("=")
        params[key] = value
    runs = {p: recint.simulate(policy=p, per_round=True, **params) for p in POLICIES}
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        plt = None
    if plt is None:
        print("matplotlib is not available: text table only")
    else:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for p in POLICIES:
            rows = runs[p]["per_round"]
            ax.plot([r["rounds"] for r in rows], [r["regret"] for r in rows], label=p)
        ax.set_xlabel("round")
        ax.set_ylabel("cumulative regret per user")
        ax.legend()
        fig.tight_layout()
        fig.savefig("explore_regret.png", dpi=120)
        print("wrote explore_regret.png")
    print("%6s" % "round" + "".join(" %10s" % p for p in POLICIES))
    rounds = len(runs[POLICIES[0]]["per_round"])
    for t in range(rounds):
        if t == 0 or (t + 1) % 5 == 0:
            print("%6d" % (t + 1) + "".join(" %10.3f" % runs[p]["per_round"][t]["regret"]
                                           for p in POLICIES))
    print()
    for p in POLICIES:
        r = runs[p]
        print("%-10s regret %8.3f  discovered %.3f  coverage %.3f  diversity %.3f"
              % (p, r["regret"], r["discovered"], r["coverage"], r["diversity"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
