"""Python exceptions for librecint status codes.

Every non-zero status of a C call becomes an instance of the class mapped to its
code, carrying the text of recint_last_error() (read on the same thread right
after the failing call) and the numeric code.
"""

from . import _lib


class RecintError(Exception):
    """Base of every error reported by librecint. `code` is the RECINT_E* value."""

    code = None

    def __init__(self, message, code=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self):
        # KeyError would otherwise quote the message like a dict key.
        return self.message

    @property
    def code_name(self):
        """Static name of the code, e.g. "RECINT_EINVAL: invalid argument"."""
        return _lib.lib.recint_strerror(self.code).decode()


class InvalidArgumentError(RecintError, ValueError):
    code = _lib.EINVAL


class OutOfMemoryError(RecintError, MemoryError):
    code = _lib.ENOMEM


class RecintIOError(RecintError, OSError):
    code = _lib.EIO


class FormatError(RecintError, ValueError):
    code = _lib.EFORMAT


class RangeError(RecintError, IndexError):
    code = _lib.ERANGE


class StateError(RecintError):
    code = _lib.ESTATE


class CanceledError(RecintError):
    code = _lib.ECANCELED


class UnsupportedError(RecintError):
    code = _lib.EUNSUPPORTED


class NotFoundError(RecintError, KeyError):
    code = _lib.ENOTFOUND


_BY_CODE = {cls.code: cls for cls in (
    InvalidArgumentError, OutOfMemoryError, RecintIOError, FormatError, RangeError,
    StateError, CanceledError, UnsupportedError, NotFoundError)}


def error_for(code, message=None):
    """The exception for status `code` with `message` (default: the C last error)."""
    if message is None:
        message = _lib.lib.recint_last_error().decode("utf-8", "replace")
        if not message:
            message = _lib.lib.recint_strerror(code).decode()
    return _BY_CODE.get(code, RecintError)(message, code)


def check(code):
    """Raise the mapped exception when a C call returned a non-zero status."""
    if code != _lib.OK:
        raise error_for(code)
