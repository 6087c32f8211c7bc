"""Exceptions: one class per models_code, all under ModelsError.

A failed C call hands back a models_error; error_from_c() copies its code,
message, HTTP status, Retry-After and transience into the matching exception
and frees the C object.
"""

from __future__ import annotations

import builtins
from typing import Any, Dict, Optional, Tuple, Type

from . import _capi


class ModelsError(Exception):
    """Base class of every libmodels error (a negative models_code).

    Attributes:
        message: the library's message (never contains a secret).
        code: the models_code, e.g. -3 (``code_name`` gives "MODELS_ERR_API").
        status_code: the provider's HTTP status, or None when there was none.
        retry_after: the provider's Retry-After in seconds, or None.
        is_transient: True when trying again may succeed (429, 5xx, a reset,
            a timeout): what the router itself retries.
    """

    #: The models_code an instance made by Python code carries.
    default_code: int = _capi.MODELS_ERR_API

    def __init__(self, message: str = "", *, status_code: Optional[int] = None,
                 retry_after: Optional[float] = None, code: Optional[int] = None,
                 is_transient: Optional[bool] = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = self.default_code if code is None else code
        self.status_code = status_code or None
        self.retry_after = retry_after or None
        if is_transient is None:
            is_transient = self.code in (_capi.MODELS_ERR_TRANSPORT, _capi.MODELS_ERR_TIMEOUT) or (
                self.status_code is not None and (self.status_code in (408, 429, 529)
                                                  or 500 <= self.status_code <= 599))
        self.is_transient = is_transient

    @property
    def code_name(self) -> str:
        """The enumerator's name, e.g. "MODELS_ERR_API" (models_code_name)."""
        return _CODE_NAMES.get(self.code, "MODELS_UNKNOWN_CODE")

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        extra = ""
        if self.status_code:
            extra += ", status_code=%d" % self.status_code
        if self.retry_after:
            extra += ", retry_after=%g" % self.retry_after
        return "%s(%r%s)" % (type(self).__name__, self.message, extra)

    def __reduce__(self) -> Tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.status_code, self.retry_after, self.code,
                           self.is_transient))


def _rebuild(cls: Type[ModelsError], message: str, status_code: Optional[int],
             retry_after: Optional[float], code: int, is_transient: bool) -> ModelsError:
    return cls(message, status_code=status_code, retry_after=retry_after, code=code,
               is_transient=is_transient)


class InvalidArgumentError(ModelsError, ValueError):
    """MODELS_ERR_INVALID_ARGUMENT: bad JSON, a bad config key, a closed router."""
    default_code = _capi.MODELS_ERR_INVALID_ARGUMENT


class NoProviderError(ModelsError):
    """MODELS_ERR_NO_PROVIDER: the model's provider is not registered."""
    default_code = _capi.MODELS_ERR_NO_PROVIDER


class APIError(ModelsError):
    """MODELS_ERR_API: the provider answered with an HTTP error (see status_code)."""
    default_code = _capi.MODELS_ERR_API


class TransportError(ModelsError, ConnectionError):
    """MODELS_ERR_TRANSPORT: connect, DNS, TLS or a reset connection."""
    default_code = _capi.MODELS_ERR_TRANSPORT


class TimeoutError(ModelsError, builtins.TimeoutError):
    """MODELS_ERR_TIMEOUT: the model did not answer within timeout_ms."""
    default_code = _capi.MODELS_ERR_TIMEOUT


class CancelledError(ModelsError):
    """MODELS_ERR_CANCELLED: the call was cancelled."""
    default_code = _capi.MODELS_ERR_CANCELLED


class ProtocolError(ModelsError):
    """MODELS_ERR_PROTOCOL: a malformed or truncated response or stream."""
    default_code = _capi.MODELS_ERR_PROTOCOL


class AllModelsInCooldownError(ModelsError):
    """MODELS_ERR_ALL_COOLDOWN: every model is cooling down."""
    default_code = _capi.MODELS_ERR_ALL_COOLDOWN


class AllModelsFailedError(ModelsError):
    """MODELS_ERR_ALL_FAILED: every model failed; status_code and retry_after are
    the last failure's, and the message lists each model and why."""
    default_code = _capi.MODELS_ERR_ALL_FAILED


class NoMemoryError(ModelsError, MemoryError):
    """MODELS_ERR_NOMEM: the library ran out of memory."""
    default_code = _capi.MODELS_ERR_NOMEM


_CLASSES: Dict[int, Type[ModelsError]] = {
    cls.default_code: cls for cls in (
        InvalidArgumentError, NoProviderError, APIError, TransportError, TimeoutError,
        CancelledError, ProtocolError, AllModelsInCooldownError, AllModelsFailedError,
        NoMemoryError)
}

_CODE_NAMES: Dict[int, str] = {
    _capi.MODELS_OK: "MODELS_OK", _capi.MODELS_DONE: "MODELS_DONE",
    _capi.MODELS_ERR_INVALID_ARGUMENT: "MODELS_ERR_INVALID_ARGUMENT",
    _capi.MODELS_ERR_NO_PROVIDER: "MODELS_ERR_NO_PROVIDER", _capi.MODELS_ERR_API: "MODELS_ERR_API",
    _capi.MODELS_ERR_TRANSPORT: "MODELS_ERR_TRANSPORT", _capi.MODELS_ERR_TIMEOUT: "MODELS_ERR_TIMEOUT",
    _capi.MODELS_ERR_CANCELLED: "MODELS_ERR_CANCELLED", _capi.MODELS_ERR_PROTOCOL: "MODELS_ERR_PROTOCOL",
    _capi.MODELS_ERR_ALL_COOLDOWN: "MODELS_ERR_ALL_COOLDOWN",
    _capi.MODELS_ERR_ALL_FAILED: "MODELS_ERR_ALL_FAILED", _capi.MODELS_ERR_NOMEM: "MODELS_ERR_NOMEM",
}


def exception_class(code: int) -> Type[ModelsError]:
    """The exception class for a models_code (ModelsError for an unknown one)."""
    return _CLASSES.get(code, ModelsError)


def error_from_c(code: int, err: Optional[int]) -> ModelsError:
    """The exception for a failed call: reads the models_error `err` (if any) and
    frees it with models_error_free()."""
    if not err:
        lib = _capi.load()
        name = lib.models_code_name(code) or b"MODELS_UNKNOWN_CODE"
        return exception_class(code)(name.decode(), code=code)
    lib = _capi.load()
    try:
        code = lib.models_error_code(err)
        message = (lib.models_error_message(err) or b"").decode("utf-8", "replace")
        status = lib.models_error_status(err)
        retry_ms = lib.models_error_retry_after_ms(err)
        transient = bool(lib.models_error_is_transient(err))
    finally:
        lib.models_error_free(err)
    return exception_class(code)(message, status_code=status or None,
                                 retry_after=retry_ms / 1000.0 if retry_ms > 0 else None,
                                 code=code, is_transient=transient)


def error_to_c(exc: BaseException, what: str) -> Tuple[int, int]:
    """(code, models_error *) describing a Python exception, for a callback
    (provider, token source) to hand to the library, which frees the error."""
    if isinstance(exc, ModelsError):
        code = exc.code if exc.code < 0 else _capi.MODELS_ERR_API
        message = exc.message or type(exc).__name__
        status = exc.status_code or 0
        retry_ms = int((exc.retry_after or 0) * 1000)
    elif isinstance(exc, KeyboardInterrupt):
        code, message, status, retry_ms = _capi.MODELS_ERR_CANCELLED, "%s interrupted" % what, 0, 0
    else:
        code = _capi.MODELS_ERR_API
        message = "%s raised %s: %s" % (what, type(exc).__name__, exc)
        status, retry_ms = 0, 0
    err = _capi.load().models_error_new(code, message.encode("utf-8", "replace"), status, retry_ms)
    return code, err or 0
