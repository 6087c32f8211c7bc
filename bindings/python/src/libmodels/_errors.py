# SPDX-License-Identifier: Apache-2.0
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
        is_transient: True when trying again may succeed (a status for which
            models_status_is_transient is 1: 408, 429, 500, 502, 503, 504,
            529; a reset; a timeout): what the router itself retries.
        kind: what kind of failure it is (models_error_kind): "rate_limit",
            "auth", "not_found", "context_window", "content_policy",
            "bad_request", "server", "timeout", "transport", "protocol",
            "cancelled", "invalid_argument", "no_provider", "all_cooldown",
            "all_failed" or "no_memory".
    """

    #: The models_code an instance made by Python code carries.
    default_code: int = _capi.MODELS_ERR_API

    #: The kind an instance made by Python code carries when none is given
    #: (None: decided by the code and the status, as the library does).
    default_kind: Optional[str] = None

    def __init__(self, message: str = "", *, status_code: Optional[int] = None,
                 retry_after: Optional[float] = None, code: Optional[int] = None,
                 is_transient: Optional[bool] = None, kind: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = self.default_code if code is None else code
        self.status_code = status_code or None
        self.retry_after = retry_after or None
        if is_transient is None:
            is_transient = self.code in (_capi.MODELS_ERR_TRANSPORT, _capi.MODELS_ERR_TIMEOUT) or (
                self.status_code is not None and _capi.status_is_transient(self.status_code))
        self.is_transient = is_transient
        self.kind = kind or self.default_kind or _kind_of(self.code, self.status_code)

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
                           self.is_transient, self.kind))


def _rebuild(cls: Type[ModelsError], message: str, status_code: Optional[int],
             retry_after: Optional[float], code: int, is_transient: bool,
             kind: Optional[str] = None) -> ModelsError:
    return cls(message, status_code=status_code, retry_after=retry_after, code=code,
               is_transient=is_transient, kind=kind)


_CODE_KINDS: Dict[int, str] = {
    _capi.MODELS_ERR_INVALID_ARGUMENT: "invalid_argument", _capi.MODELS_ERR_NO_PROVIDER: "no_provider",
    _capi.MODELS_ERR_TRANSPORT: "transport", _capi.MODELS_ERR_TIMEOUT: "timeout",
    _capi.MODELS_ERR_CANCELLED: "cancelled", _capi.MODELS_ERR_PROTOCOL: "protocol",
    _capi.MODELS_ERR_ALL_COOLDOWN: "all_cooldown", _capi.MODELS_ERR_ALL_FAILED: "all_failed",
    _capi.MODELS_ERR_NOMEM: "no_memory",
}


def _kind_of(code: int, status: Optional[int]) -> str:
    """The kind the library gives an error with this code and status when its
    message says nothing more (models_error_kind)."""
    if code != _capi.MODELS_ERR_API:
        return _CODE_KINDS.get(code, "server")
    if status == 429:
        return "rate_limit"
    if status in (401, 403):
        return "auth"
    if status == 404:
        return "not_found"
    if status == 408:
        return "timeout"
    if status is not None and 400 <= status <= 499:
        return "bad_request"
    return "server"


class InvalidArgumentError(ModelsError, ValueError):
    """MODELS_ERR_INVALID_ARGUMENT: bad JSON, a bad config key, a closed router."""
    default_code = _capi.MODELS_ERR_INVALID_ARGUMENT


class NoProviderError(ModelsError):
    """MODELS_ERR_NO_PROVIDER: the model's provider is not registered."""
    default_code = _capi.MODELS_ERR_NO_PROVIDER


class APIError(ModelsError):
    """MODELS_ERR_API: the provider answered with an HTTP error (see status_code)."""
    default_code = _capi.MODELS_ERR_API


class RateLimitError(APIError):
    """HTTP 429: the provider's rate limit (kind "rate_limit")."""
    default_kind = "rate_limit"


class AuthenticationError(APIError):
    """HTTP 401 or 403: the key or token was refused (kind "auth")."""
    default_kind = "auth"


class NotFoundError(APIError):
    """HTTP 404: an unknown model or endpoint (kind "not_found")."""
    default_kind = "not_found"


class ContextWindowExceededError(APIError):
    """The prompt is too long for the model (kind "context_window")."""
    default_kind = "context_window"


class ContentPolicyError(APIError):
    """A content filter or policy refused the request (kind "content_policy")."""
    default_kind = "content_policy"


class BadRequestError(APIError):
    """Any other HTTP 4xx: the request was refused as it is (kind "bad_request")."""
    default_kind = "bad_request"


class ServerError(APIError):
    """HTTP 5xx or 529, or an error event in a stream (kind "server")."""
    default_kind = "server"


class TransportError(ModelsError, ConnectionError):
    """MODELS_ERR_TRANSPORT: connect, DNS, TLS or a reset connection."""
    default_code = _capi.MODELS_ERR_TRANSPORT


class ModelsTimeoutError(ModelsError, builtins.TimeoutError):
    """MODELS_ERR_TIMEOUT: the model did not answer within timeout_ms. Also a
    builtin TimeoutError. (Named so as not to shadow that builtin; the old
    name libmodels.TimeoutError is a deprecated alias.)"""
    default_code = _capi.MODELS_ERR_TIMEOUT


class ModelsCancelledError(ModelsError):
    """MODELS_ERR_CANCELLED: the call was cancelled (models_call_cancel, a
    callback's non-zero return). Not an asyncio.CancelledError: a cancelled
    asyncio task raises asyncio's own. (The old name libmodels.CancelledError
    is a deprecated alias.)"""
    default_code = _capi.MODELS_ERR_CANCELLED


class ProtocolError(ModelsError):
    """MODELS_ERR_PROTOCOL: a malformed or truncated response or stream."""
    default_code = _capi.MODELS_ERR_PROTOCOL


class AllModelsInCooldownError(ModelsError):
    """MODELS_ERR_ALL_COOLDOWN: every model is cooling down, or every deployment
    of a group is at its rpm/tpm limit; retry_after is the seconds until the
    first is available again."""
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
        InvalidArgumentError, NoProviderError, APIError, TransportError, ModelsTimeoutError,
        ModelsCancelledError, ProtocolError, AllModelsInCooldownError, AllModelsFailedError,
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


_API_CLASSES: Dict[str, Type[APIError]] = {
    cls.default_kind: cls for cls in (  # type: ignore[misc]
        RateLimitError, AuthenticationError, NotFoundError, ContextWindowExceededError,
        ContentPolicyError, BadRequestError, ServerError)
}


def exception_class(code: int, kind: Optional[str] = None) -> Type[ModelsError]:
    """The exception class for a models_code and kind (ModelsError for an unknown
    code; for MODELS_ERR_API, the APIError subclass of the kind, if it has one)."""
    if code == _capi.MODELS_ERR_API and kind in _API_CLASSES:
        return _API_CLASSES[kind]
    return _CLASSES.get(code, ModelsError)


def error_from_c(code: int, err: Optional[int]) -> ModelsError:
    """The exception for a failed call: reads the models_error `err` (if any) and
    frees it with models_error_free()."""
    if not err:
        lib = _capi.load()
        name = lib.models_code_name(code) or b"MODELS_UNKNOWN_CODE"
        return exception_class(code)(name.decode(), code=code)
    try:
        return error_from_lent(code, err)
    finally:
        _capi.load().models_error_free(err)


def error_from_lent(code: int, err: Optional[int]) -> ModelsError:
    """The exception for a failed call from a models_error `err` the library
    lends (an engine's on_done): read, never freed."""
    lib = _capi.load()
    if not err:
        name = lib.models_code_name(code) or b"MODELS_UNKNOWN_CODE"
        return exception_class(code)(name.decode(), code=code)
    code = lib.models_error_code(err)
    message = (lib.models_error_message(err) or b"").decode("utf-8", "replace")
    status = lib.models_error_status(err)
    retry_ms = lib.models_error_retry_after_ms(err)
    transient = bool(lib.models_error_is_transient(err))
    kind = (lib.models_error_kind(err) or b"").decode() or None
    return exception_class(code, kind)(message, status_code=status or None,
                                       retry_after=retry_ms / 1000.0 if retry_ms > 0 else None,
                                       code=code, is_transient=transient, kind=kind)


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
