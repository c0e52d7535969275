"""The hybrid kind (LightFM-like): users and items as sums of feature embeddings."""

from . import _arrays, _errors
from ._features import Features
from ._lib import lib
from ._model import Model, Trainer


def _features_arg(f, what):
    """A recint.Features as is; a scipy.sparse matrix (anything with tocsr())
    through its CSR arrays; any other 2-D array or list of rows as dense."""
    if f is None or isinstance(f, Features):
        return f
    if hasattr(f, "tocsr"):
        csr = f.tocsr()
        rows, cols = csr.shape
        return Features.from_sparse(rows, cols, csr.indptr, csr.indices, csr.data)
    try:
        return Features.from_dense(f)
    except (TypeError, ValueError) as exc:
        raise TypeError("%s: expected recint.Features, a scipy.sparse matrix or a 2-D "
                        "array (%s)" % (what, exc)) from None


class HybridModel(Model):
    """Hybrid interest model (kind "hybrid"): a user's representation is the sum
    of the embeddings of their features (identity by default), items likewise,
    and score(u, i) = <rep_u, rep_i> + item bias. As in LightFM:

        model = recint.HybridModel(loss="warp", dim=64)
        model.fit(train, item_features=genres)          # recint.Features / scipy / 2-D
        items, scores = model.recommend(0, k=10)
        similar, _ = model.similar_items(3, k=5)
        model.fit_partial(more_data, epochs=2)          # continue training
        vec = model.fold_in([3, 17, 42])                # a new user, model unchanged
        items, scores = model.recommend_vector(vec, k=10)

    Keyword arguments are library parameters (recint.params()): loss
    (warp|bpr|logistic|warp-kos), optimizer (adagrad|adam), dim, epochs,
    learning_rate (0: the loss's default), max_sampled, user_alpha, item_alpha,
    threads, seed, ... Items or users without training rows are scored from
    their other features alone (cold start)."""

    def __init__(self, _ptr=None, **params):
        super().__init__("hybrid", _ptr=_ptr, **params)

    def set_features(self, user_features=None, item_features=None):
        """Feature matrices for the next fit (row r describes user / item index r
        of the training data; None keeps identity features). Copied."""
        uf = _features_arg(user_features, "user_features")
        itf = _features_arg(item_features, "item_features")
        up = uf._p if uf is not None else None
        ip = itf._p if itf is not None else None
        with self._changing("HybridModel.set_features") as p:
            _errors.check(lib.recint_model_set_features(p, up, ip))
        return self

    def fit(self, train, valid=None, progress=None, user_features=None, item_features=None,
            **params):
        """Fit from scratch on a Dataset. user_features / item_features as in
        set_features (given ones replace earlier ones; None keeps them). valid: a
        Dataset for early stopping (patience=N). params override the model's
        parameters for this run (epochs=..., threads=...). Returns self."""
        self._own.check_unread("HybridModel.fit")  # before the features change
        if user_features is not None or item_features is not None:
            self.set_features(user_features, item_features)
        return super().fit(train, valid, progress, **params)

    def fit_partial(self, data, progress=None, **params):
        """Continue training from the current state on data (a Dataset on the
        model's catalogue: recint.Dataset.with_catalogue(model) or a split of the
        training data) for `epochs` more epochs; an unfitted model is fitted.
        Returns self."""
        self._own.check_unread("HybridModel.fit_partial")
        with Trainer(self, self._config, **params) as trainer:
            trainer._run("HybridModel.fit_partial", lib.recint_trainer_partial_fit, (data,),
                         progress)
        return self

    def predict(self, users, items):
        """Scores of the pairs (users[k], items[k]) (dense indices), as LightFM's
        predict: float32 numpy array (list without numpy)."""
        u = list(int(x) for x in users)
        it = list(int(x) for x in items)
        if len(u) != len(it):
            raise ValueError("users has %d values, items %d" % (len(u), len(it)))
        out = []
        for a, b in zip(u, it):
            out.append(float(self.score([a], [b])[0][0]))
        if _arrays.np is not None:
            return _arrays.np.asarray(out, dtype=_arrays.np.float32)
        return out

    @classmethod
    def load(cls, path, **params):
        """A hybrid model saved by save(); a file of another kind raises ValueError."""
        return _only_hybrid(super().load(path, **params))

    @classmethod
    def from_bytes(cls, data, **params):
        return _only_hybrid(super().from_bytes(data, **params))


def _only_hybrid(model):
    if model.kind != "hybrid":
        kind = model.kind
        model.close()
        raise ValueError("the saved model is of kind %r, not 'hybrid'" % kind)
    return model
