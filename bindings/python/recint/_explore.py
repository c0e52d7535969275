"""recint_explorer (bandit policies over a model's vectors), the simulator and
the off-policy estimators. See docs/exploration.md."""

import ctypes

from . import _arrays, _config, _constants, _errors
from ._dataset import fspath_bytes
from ._handle import Handle, ReaderKind
from ._ids import scalar_u32
from ._lib import ExplorerP, lib


def _indexed(prefix, skip=(), count=None, renamed=None):
    """{lower-case name: value} of the generated RECINT_<prefix>* macros whose
    names start with none of skip, in header order. With count, the values must
    be exactly 0..count-1, so that a total added to the header cannot leave a
    hole in the tuples built from it."""
    out = {}
    for name, value in vars(_constants).items():
        if name.startswith(prefix) and not name.startswith(tuple(skip)):
            short = name[len(prefix):].lower()
            out[(renamed or {}).get(short, short)] = value
    if count is not None and sorted(out.values()) != list(range(count)):
        raise ImportError("recint._constants: RECINT_%s* values %s are not 0..%d"
                          % (prefix, sorted(out.values()), count - 1))
    return out


# The keys of simulate()'s dicts, in the order of recint_simulate's out. The
# reward total was published as "cumulative_reward" before the names came
# from the header.
_SIM = _indexed("SIM_", skip=("SIM_COUNT",), count=_constants.SIM_COUNT,
                renamed={"reward": "cumulative_reward"})
SIM_KEYS = tuple(sorted(_SIM, key=_SIM.get))
# recint_explorer_evaluate's estimators by name (RECINT_OPE_*, without the
# RECINT_OPE_SIM_* layout of recint_simulate_ope).
ESTIMATORS = _indexed("OPE_", skip=("OPE_SIM_",))
_OPE_SIM_COUNT = _constants.OPE_SIM_COUNT
# recint_explorer_evaluate writes estimate, standard error and the two CI ends.
_EVALUATE_LEN = 4

# The C explorer keeps pointers into its model's vectors: a change would free them.
_EXPLORERS = ReaderKind("explorer", "explorers",
                        "close the explorer first (or fit a new model instead)")


class Explorer(Handle):
    """Exploration policies over a fitted model's user and item vectors.

        ex = recint.Explorer(model, policy="thompson", candidates=200)
        items, propensities = ex.recommend(user, k=10)
        ex.observe(user, items[0], 1.0)

    Keyword arguments are library parameters (policy, epsilon, temperature,
    ucb_alpha, thompson_scale, prior_precision, history_precision, mmr_lambda,
    candidates, debias, propensity_samples, online, seed). The explorer keeps
    its model alive (also through model.close()), and while it exists the model
    refuses changes (fit, partial fits, set_features raise StateError)."""

    _free_fn = staticmethod(lib.recint_explorer_free)

    def __init__(self, model, config=None, **params):
        cfg = _config.make(params, base=config)
        ptr = ExplorerP()
        mp = model._p
        _errors.check(lib.recint_explorer_new(ctypes.byref(ptr), mp, _config.ptr_of(cfg)))
        self._model_owner = mp._recint_owner
        super().__init__(ptr, deps=(self._model_owner,))
        self._model_owner.add_reader(self._owner, _EXPLORERS)
        self.model = model

    def recommend(self, user, k=10):
        """A slate for user: (items, propensities). propensities[j] is the
        probability that the policy puts items[j] in slot j given the slots
        before it. Each call is the user's next round."""
        u, k = scalar_u32(user, "user"), scalar_u32(k, "k")
        room = max(min(k, lib.recint_model_n_items(self._model_owner.ptr)), 1)
        items, ip = _arrays.alloc(ctypes.c_uint32, room)
        props, pp = _arrays.alloc(ctypes.c_double, room)
        n = ctypes.c_uint32()
        _errors.check(lib.recint_explorer_recommend(self._p, u, min(k, room), ip, pp,
                                                    ctypes.byref(n)))
        return _arrays.finish(items, n.value), _arrays.finish(props, n.value)

    def observe(self, user, item, reward):
        """Feedback of user on item (a finite number, e.g. 1.0 for a click)."""
        _errors.check(lib.recint_explorer_observe(self._p, scalar_u32(user, "user"),
                                                  scalar_u32(item, "item"), float(reward)))

    def set_logging(self, enable=True):
        """Start (clearing it) or stop the log of every slate."""
        _errors.check(lib.recint_explorer_set_logging(self._p, 1 if enable else 0))

    @property
    def log_size(self):
        return int(lib.recint_explorer_log_size(self._p))

    def save_log(self, path, text=False):
        """Write the log: the library's binary container, or with text=True
        tab-separated text (one record per line). replay and evaluate read both."""
        fn = lib.recint_explorer_log_save_text if text else lib.recint_explorer_log_save
        _errors.check(fn(self._p, fspath_bytes(path)))

    def replay(self, path):
        """Replay a log into this explorer; returns the number of records whose
        items or propensities differ from the log (0: bit-exact)."""
        n = ctypes.c_uint64()
        _errors.check(lib.recint_explorer_replay(self._p, fspath_bytes(path), ctypes.byref(n)))
        return int(n.value)

    def evaluate(self, path, estimator="dr"):
        """Off-policy value of this explorer's policy (frozen) from a log:
        dict(estimate, se, ci=(low, high)). estimator: ips, snips or dr."""
        if estimator not in ESTIMATORS:
            raise ValueError("estimator must be one of %s, got %r"
                             % (", ".join(sorted(ESTIMATORS)), estimator))
        out = (ctypes.c_double * _EVALUATE_LEN)()
        _errors.check(lib.recint_explorer_evaluate(self._p, fspath_bytes(path),
                                                   ESTIMATORS[estimator], out, _EVALUATE_LEN))
        return {"estimate": out[0], "se": out[1], "ci": (out[2], out[3])}


def simulate(config=None, per_round=False, **params):
    """The exploration simulator for one policy (sim_* keys, the model's keys and
    the explorer's). Returns a dict of SIM_KEYS totals; with per_round=True also
    a list of such dicts, one per round, under "per_round"."""
    cfg = _config.make(params, base=config)
    rounds = int(_config.Config().get("sim_rounds") if cfg is None else cfg.get("sim_rounds"))
    n = len(SIM_KEYS)
    out = (ctypes.c_double * n)()
    rows = (ctypes.c_double * (rounds * n))() if per_round else None
    _errors.check(lib.recint_simulate(_config.ptr_of(cfg), out, n, rows,
                                      rounds * n if per_round else 0))
    result = dict(zip(SIM_KEYS, list(out)))
    if per_round:
        result["per_round"] = [dict(zip(SIM_KEYS, list(rows[t * n:(t + 1) * n])))
                               for t in range(rounds)]
    return result


def simulate_ope(log_path, config=None, **params):
    """The off-policy experiment: uniform logging to log_path, then IPS, SNIPS
    and DR estimates of the configured policy against its simulated true value."""
    cfg = _config.make(params, base=config)
    out = (ctypes.c_double * _OPE_SIM_COUNT)()
    _errors.check(lib.recint_simulate_ope(_config.ptr_of(cfg), fspath_bytes(log_path), out,
                                          _OPE_SIM_COUNT))
    result = {"true_value": out[_constants.OPE_SIM_TRUE],
              "logged_value": out[_constants.OPE_SIM_LOGGED]}
    for name, base in _indexed("OPE_SIM_", skip=("OPE_SIM_TRUE", "OPE_SIM_LOGGED",
                                                  "OPE_SIM_COUNT")).items():
        result[name] = {"estimate": out[base], "se": out[base + 1],
                        "ci": (out[base + 2], out[base + 3])}
    return result
