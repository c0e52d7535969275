"""The sequential kind: a self-attention Transformer over each user's recent items."""

import ctypes

from . import _arrays, _errors
from ._lib import lib
from ._model import Model


class SequentialModel(Model):
    """Next-item model (kind "sequential", SASRec-style; docs/sequential.md):

        model = recint.SequentialModel(threads=2).fit(train)
        items, scores = model.recommend(0, k=10)              # from the stored history
        items, scores = model.recommend(history=[12, 7, 301], k=10)   # a new session
        vec = model.sequence_vector([12, 7, 301])

    Keyword arguments are library parameters (recint.params(): dim, blocks,
    heads, maxlen, dropout, loss, epochs, learning_rate, batch_size, ...)."""

    def __init__(self, _ptr=None, **params):
        super().__init__("sequential", _ptr=_ptr, **params)

    def sequence_vector(self, history):
        """The user vector (dim float32 values) the model gives a sequence of item
        indices, oldest first (only the last maxlen count; repeats are fine)."""
        it = _arrays.to_c(history, ctypes.c_uint32, "history")
        dim = self.dim
        buf, out = _arrays.alloc(ctypes.c_float, max(dim, 1))
        _errors.check(lib.recint_model_sequence_vector(self._p, it.ptr if it.n else None,
                                                       it.n, out))
        return _arrays.finish(buf, dim)

    def recommend(self, user=None, k=10, *, user_id=None, ids=False, filter=None,
                  history=None, exclude_history=True):
        """Top-k for a stored user (as Model.recommend) or, with history=[item
        indices, oldest first], for that sequence: the history's items are left
        out unless exclude_history is False. Returns (items, scores)."""
        if history is None:
            return super().recommend(user, k, user_id=user_id, ids=ids, filter=filter)
        if user is not None or user_id is not None:
            raise ValueError("pass either a user or a history, not both")
        hist = [int(i) for i in history]
        vec = self.sequence_vector(hist)
        return self.recommend_vector(vec, k=k, filter=filter,
                                     exclude=hist if exclude_history else None)

    @classmethod
    def load(cls, path, **params):
        """A sequential model saved by save(); a file of another kind raises ValueError."""
        return _only_sequential(super().load(path, **params))

    @classmethod
    def from_bytes(cls, data, **params):
        return _only_sequential(super().from_bytes(data, **params))


def _only_sequential(model):
    if model.kind != "sequential":
        kind = model.kind
        model.close()
        raise ValueError("the saved model is of kind %r, not 'sequential'" % kind)
    return model
