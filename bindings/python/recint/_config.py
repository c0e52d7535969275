"""Named parameters: the C parameter table is the only source of keys, types,
defaults and validation; Python only turns values into text."""

import ctypes
import numbers

from . import _errors
from ._handle import Handle
from ._lib import ConfigP, PARAM_FIELDS, PARAM_INDEX, lib


def params():
    """Every parameter of the library as a list of dicts with the keys
    key, type, default, range, help and group (from recint_config_describe)."""
    out = []
    for i in range(lib.recint_config_count()):
        entry = {}
        for name in PARAM_FIELDS:
            text = lib.recint_config_describe(i, PARAM_INDEX[name])
            entry[name] = text.decode() if text is not None else ""
        out.append(entry)
    return out


def value_text(value):
    """The text form recint_config_set parses for a Python value."""
    if isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b":
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return ",".join(value)  # e.g. columns=("user", "item", "skip", "timestamp")
    raise TypeError("cannot pass %r (%s) as a recint parameter" % (value, type(value).__name__))


def _get(cfg_ptr, key):
    cap = 64
    while True:
        buf = ctypes.create_string_buffer(cap)
        rc = lib.recint_config_get(cfg_ptr, key.encode(), buf, cap)
        if rc == _errors._lib.ERANGE and cap < (1 << 20):
            cap *= 8
            continue
        _errors.check(rc)
        return buf.value.decode()


def default(key):
    """The default of key as text, read from the C table."""
    return _get(None, key)


class Config(Handle):
    """A recint_config: Config(dim=64, loss="warp"). Keys and values are checked by
    the library; an unknown key raises NotFoundError (a KeyError) whose message
    suggests close keys, a bad value InvalidArgumentError (a ValueError)."""

    _free_fn = staticmethod(lib.recint_config_free)

    def __init__(self, _ptr=None, **params):
        if _ptr is None:
            _ptr = ConfigP()
            _errors.check(lib.recint_config_new(ctypes.byref(_ptr)))
        super().__init__(_ptr)
        self.update(params)

    def set(self, key, value):
        if not isinstance(key, str):
            raise TypeError("parameter names are str, got %r" % (key,))
        _errors.check(lib.recint_config_set(self._p, key.encode(), value_text(value).encode()))
        return self

    def set_pair(self, key_eq_value):
        """Set from "key=value" text, as the command line's --set does."""
        _errors.check(lib.recint_config_set_pair(self._p, key_eq_value.encode()))
        return self

    def update(self, params=None, **more):
        for source in (params or {}, more):
            for key, value in source.items():
                self.set(key, value)
        return self

    def get(self, key):
        """Current value of key as the library's text ("64", "0.05", "true")."""
        return _get(self._p, key)

    def is_set(self, key):
        return bool(lib.recint_config_is_set(self._p, key.encode()))

    def copy(self, **params):
        """A deep copy, with params applied on top."""
        ptr = ConfigP()
        _errors.check(lib.recint_config_copy(ctypes.byref(ptr), self._p))
        return Config(_ptr=ptr, **params)

    def explicit(self):
        """{key: text} of the keys set explicitly."""
        return {p["key"]: self.get(p["key"]) for p in params() if self.is_set(p["key"])}

    def __getitem__(self, key):
        return self.get(key)

    def __setitem__(self, key, value):
        self.set(key, value)

    def __repr__(self):
        if self.closed:
            return "Config(<closed>)"
        return "Config(%s)" % ", ".join("%s=%r" % kv for kv in self.explicit().items())


def make(params, base=None):
    """Config for a call: None (library defaults) when there is nothing to set,
    else a fresh Config (a copy of base when given) with params applied."""
    if base is not None:
        return base.copy(**params)
    if not params:
        return None
    return Config(**params)


def ptr_of(cfg):
    return cfg._p if cfg is not None else None
