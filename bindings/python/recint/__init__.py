"""librecint from Python: datasets, models, training and evaluation.

    import recint
    data = recint.Dataset.load("u.data").filter(min_weight=4)
    train, test = data.split("temporal:0.2")
    model = recint.Model("pop").fit(train)    # or recint.ALSModel(dim=64).fit(train)
    items, scores = model.recommend(0, k=10)
    ids, scores, counts = model.recommend_batch(range(model.n_users), k=10)
    print(recint.evaluate(model, train, test, k=10))

See docs/python.md. The C library is found through $RECINT_LIBRARY, the build
trees of the checkout, then the system (recint._lib.candidates() lists them).
"""

from ._lib import ABI_MAJOR, LibraryNotFound
from ._lib import path as library_path
from ._lib import version_string as _version_string
from ._errors import (CanceledError, FormatError, InvalidArgumentError, NotFoundError,
                      OutOfMemoryError, RangeError, RecintError, RecintIOError, StateError,
                      UnsupportedError)
from ._arrays import HAVE_NUMPY
from ._config import Config, params
from ._config import default as param_default
from ._dataset import Dataset
from ._features import Features
from ._model import ALSModel, Model, Trainer, kinds
from ._hybrid import HybridModel
from ._filter import Filter
from ._evaluate import evaluate, evaluate_next
from ._sequential import SequentialModel
from ._explore import Explorer, simulate, simulate_ope

__version__ = _version_string()

__all__ = [
    "ABI_MAJOR", "HAVE_NUMPY", "LibraryNotFound", "library_path", "__version__",
    "RecintError", "InvalidArgumentError", "OutOfMemoryError", "RecintIOError", "FormatError",
    "RangeError", "StateError", "CanceledError", "UnsupportedError", "NotFoundError",
    "Config", "params", "param_default", "Dataset", "Features", "Model", "ALSModel", "Trainer",
    "kinds",
    "Filter",
    "HybridModel",
    "evaluate", "evaluate_next",
    "SequentialModel",
    "Explorer", "simulate", "simulate_ope",
]
