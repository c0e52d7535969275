"""Evaluation: recint_evaluate and recint_evaluate_next as dicts of metrics."""

import ctypes
import math

from . import _config, _errors
from ._constants import METRIC_USERS
from ._ids import scalar_u32
from ._lib import METRIC_COUNT, METRICS_NEXT, METRICS_TOPK, lib


def metric_name(index):
    name = lib.recint_metric_name(index)
    return name.decode() if name is not None else "metric_%d" % index


def _run(fn, picks, model, first, test, k, params):
    k = int(_config.default("k")) if k is None else k
    cfg = _config.make(params)
    out = (ctypes.c_double * METRIC_COUNT)(*([math.nan] * METRIC_COUNT))
    _errors.check(fn(model._p, first._p, test._p, scalar_u32(k, "k"), _config.ptr_of(cfg),
                     out, METRIC_COUNT))
    result = {}
    for i in picks:
        value = out[i]
        is_count = i == METRIC_USERS and math.isfinite(value)
        result[metric_name(i)] = int(value) if is_count else value
    return result


def evaluate(model, train, test, k=None, **params):
    """Top-k ranking metrics of model on test, ranking for each user every item not
    in the user's train rows. Returns {precision, recall, ndcg, map, hit_rate, auc,
    coverage, users}. k defaults to the library's `k` parameter (10); params are
    library parameters (threads)."""
    return _run(lib.recint_evaluate, METRICS_TOPK, model, train, test, k, params)


def evaluate_next(model, history, test, k=None, **params):
    """Next-item metrics: each test row is a target ranked against the items not
    in the user's history. Returns {full_hr, full_ndcg, sampled_hr, sampled_ndcg,
    users}; params: eval_samples, seed, threads."""
    return _run(lib.recint_evaluate_next, METRICS_NEXT, model, history, test, k, params)
