# SPDX-License-Identifier: Apache-2.0
"""Token sources written in Python for any provider (models_router_set_token_source).

A token source is a callable taking no arguments and returning the token: a
``str``, a ``(token, expires_at)`` pair, or an object with ``token`` and
``expires_on`` (azure-identity's ``AccessToken``). ``expires_at`` is Unix
seconds (an ``int``, a ``float`` or an aware ``datetime``); without it the
token serves one request. The library keeps a token until 60 s before it
expires and calls the source once however many threads need a new one, so
``azure.identity.get_bearer_token_provider(credential, scope)`` fits as is.

The callable runs on the thread that needs a token: the caller's for chat()
and stream(), a worker thread of the engine for achat() and astream() (never
the event loop's thread). It never runs twice at once for one source.
"""

from __future__ import annotations

import ctypes
import datetime
import itertools
from typing import Any, Callable, Dict, Optional, Tuple

from . import _capi, _sigint
from ._errors import error_from_c, error_to_c

#: The expiries the library accepts, in Unix seconds (1970 to the end of 9999).
_EXPIRY_RANGE = (1, 253_402_300_799)

_registry: Dict[int, Callable[[], Any]] = {}
_ids = itertools.count(1)  # never 0: `user` NULL arrives as None


def _token_and_expiry(value: Any) -> Tuple[str, int]:
    """What a source returned, as (token, expires_at or 0)."""
    expires: Any = 0
    if isinstance(value, (str, bytes)):
        token = value
    elif hasattr(value, "token") and hasattr(value, "expires_on"):
        token, expires = value.token, value.expires_on
    elif isinstance(value, tuple) and len(value) == 2:
        token, expires = value
    else:
        raise TypeError("a token source returns a str, a (token, expires_at) pair or an object with "
                        "token and expires_on, not %s" % type(value).__name__)
    if isinstance(token, bytes):
        token = token.decode("utf-8")
    if not isinstance(token, str):
        raise TypeError("a token source's token must be a str, not %s" % type(token).__name__)
    if isinstance(expires, datetime.datetime):
        expires = expires.timestamp()
    if expires is None:
        expires = 0
    if isinstance(expires, bool) or not isinstance(expires, (int, float)):
        raise TypeError("a token source's expiry must be Unix seconds (int or float) or a datetime, not %s"
                        % type(expires).__name__)
    if expires != expires or not (_EXPIRY_RANGE[0] <= expires <= _EXPIRY_RANGE[1]):  # NaN or out of range
        expires = 0
    return token, int(expires)


def _get_token(user: Optional[int], out: Any, expires_at: Any, err: Any) -> int:
    source = _registry.get(user or 0)
    try:
        if source is None:
            raise RuntimeError("token source is gone")
        token, expires = _token_and_expiry(source())
        out[0] = _capi.malloc_string(token.encode("utf-8"))
        expires_at[0] = expires
        return _capi.MODELS_OK
    except BaseException as exc:
        _sigint.note(exc)
        # The message is the library's to redact: it never quotes a token of ours.
        code, error = error_to_c(exc, "token source")
        if err:
            err[0] = error
        elif error:
            _capi.load().models_error_free(error)
        return code


def _destroy(user: Optional[int]) -> None:
    _registry.pop(user or 0, None)


_GET_TOKEN = _capi.token_callbacks_get_fn(_get_token)
_DESTROY = _capi.token_destroy_fn(_destroy)

_SEND_AS = {"bearer": _capi.MODELS_TOKEN_BEARER, "api_key": _capi.MODELS_TOKEN_API_KEY}


def register_token_source(router: int, provider: str, source: Callable[[], Any], send_as: str = "bearer") -> None:
    """models_router_set_token_source with the trampolines and a new registry entry."""
    lib = _capi.load()
    set_source = getattr(lib, "models_router_set_token_source", None)
    if set_source is None:
        raise NotImplementedError("this libmodels (%s) has no models_router_set_token_source" % _capi.library_path())
    if not callable(source):
        raise TypeError("a token source must be callable (it returns the token)")
    if send_as not in _SEND_AS:
        raise ValueError("send_as must be \"bearer\" or \"api_key\", not %r" % (send_as,))
    key = next(_ids)
    _registry[key] = source
    table = _capi.models_token_callbacks(_GET_TOKEN, _DESTROY, _SEND_AS[send_as])
    err = ctypes.c_void_p()
    code = set_source(router, provider.encode("utf-8"), ctypes.byref(table), key, ctypes.byref(err))
    if code != _capi.MODELS_OK:
        _registry.pop(key, None)
        raise error_from_c(code, err.value)
