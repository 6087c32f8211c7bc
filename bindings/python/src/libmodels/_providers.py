# SPDX-License-Identifier: Apache-2.0
"""Providers and Copilot token sources written in Python.

The library calls C function pointers with a `void *user`; here `user` is a
small integer naming an entry of a registry, and the function pointers are
module-level trampolines that live as long as the interpreter (a ctypes
callback object that is collected while C still holds it crashes the
process). An entry leaves the registry when the library calls `destroy`.

Callbacks run on whichever thread makes the request; they never let a Python
exception unwind into the library: failures become a negative models_code
and a models_error from models_error_new().
"""

from __future__ import annotations

import ctypes
import itertools
import json
import threading
from typing import Any, Callable, Dict, Iterator, List, Optional

from . import _capi, _sigint
from ._errors import error_from_c, error_to_c


class _Entry:
    __slots__ = ("name", "chat", "stream", "streams", "lock")

    def __init__(self, name: str, chat: Callable[..., Any], stream: Optional[Callable[..., Any]]) -> None:
        self.name = name
        self.chat = chat
        self.stream = stream
        # Open streams: id -> [iterator, the last chunk's buffer (lent to C until the next call)].
        self.streams: Dict[int, List[Any]] = {}
        self.lock = threading.Lock()


_registry: Dict[int, Any] = {}
_ids = itertools.count(1)  # never 0: `user` NULL arrives as None


def _fail(exc: BaseException, err: Any, what: str) -> int:
    _sigint.note(exc)
    code, error = error_to_c(exc, what)
    if err:
        err[0] = error
    elif error:
        _capi.load().models_error_free(error)
    return code


def _encode(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# ---- provider trampolines -------------------------------------------------------

def _chat(user: Optional[int], model_id: Optional[bytes], request: Optional[bytes], response: Any,
          err: Any) -> int:
    entry: Optional[_Entry] = _registry.get(user or 0)
    try:
        if entry is None:
            raise RuntimeError("provider is gone")
        answer = entry.chat((model_id or b"").decode("utf-8"), json.loads(request or b"{}"))
        response[0] = _capi.malloc_string(_encode(answer))
        return _capi.MODELS_OK
    except BaseException as exc:
        return _fail(exc, err, "provider %s" % (entry.name if entry else "?"))


def _stream_open(user: Optional[int], model_id: Optional[bytes], request: Optional[bytes],
                 stream: Any, err: Any) -> int:
    entry: Optional[_Entry] = _registry.get(user or 0)
    try:
        if entry is None or entry.stream is None:
            raise RuntimeError("provider does not stream")
        iterator: Iterator[Any] = iter(entry.stream((model_id or b"").decode("utf-8"),
                                                    json.loads(request or b"{}")))
        sid = next(_ids)
        with entry.lock:
            entry.streams[sid] = [iterator, None]
        stream[0] = sid
        return _capi.MODELS_OK
    except BaseException as exc:
        return _fail(exc, err, "provider %s" % (entry.name if entry else "?"))


def _stream_next(user: Optional[int], stream: Optional[int], chunk: Any, size: Any, err: Any) -> int:
    entry: Optional[_Entry] = _registry.get(user or 0)
    try:
        if entry is None:
            raise RuntimeError("provider is gone")
        with entry.lock:
            state = entry.streams[stream or 0]
        try:
            value = next(state[0])
        except StopIteration:
            return _capi.MODELS_DONE
        data = _encode(value)
        buffer = ctypes.create_string_buffer(data, len(data) + 1)
        state[1] = buffer
        chunk[0] = ctypes.addressof(buffer)
        if size:
            size[0] = len(data)
        return _capi.MODELS_OK
    except BaseException as exc:
        return _fail(exc, err, "provider %s" % (entry.name if entry else "?"))


def _stream_close(user: Optional[int], stream: Optional[int]) -> None:
    try:
        entry: Optional[_Entry] = _registry.get(user or 0)
        if entry is None:
            return
        with entry.lock:
            state = entry.streams.pop(stream or 0, None)
        close = getattr(state[0], "close", None) if state else None
        if close is not None:
            close()
    except BaseException as exc:
        _sigint.note(exc)


def _destroy(user: Optional[int]) -> None:
    _registry.pop(user or 0, None)


_CALLBACKS = _capi.models_provider_callbacks(
    _capi.provider_chat_fn(_chat), _capi.provider_stream_open_fn(_stream_open),
    _capi.provider_stream_next_fn(_stream_next), _capi.provider_stream_close_fn(_stream_close),
    _capi.provider_destroy_fn(_destroy))
_CALLBACKS_NO_STREAM = _capi.models_provider_callbacks(
    _CALLBACKS.chat, _capi.provider_stream_open_fn(), _capi.provider_stream_next_fn(),
    _capi.provider_stream_close_fn(), _CALLBACKS.destroy)


def register_provider(router: int, name: str, provider: Any) -> None:
    """models_router_add_provider with the trampolines and a new registry entry."""
    chat = getattr(provider, "chat", None)
    if chat is None:
        if not callable(provider):
            raise TypeError("provider needs a chat(model_id, request) method or must be callable")
        chat = provider
    stream = getattr(provider, "stream", None)
    key = next(_ids)
    _registry[key] = _Entry(name, chat, stream)
    err = ctypes.c_void_p()
    table = _CALLBACKS if stream is not None else _CALLBACKS_NO_STREAM
    code = _capi.load().models_router_add_provider(router, name.encode("utf-8"), ctypes.byref(table), key,
                                                   ctypes.byref(err))
    if code != _capi.MODELS_OK:
        _registry.pop(key, None)
        raise error_from_c(code, err.value)


# ---- Copilot token sources ------------------------------------------------------

class _Source:
    __slots__ = ("get_token", "get_api_url")

    def __init__(self, get_token: Callable[[], str], get_api_url: Optional[Callable[[], str]]) -> None:
        self.get_token = get_token
        self.get_api_url = get_api_url


def _get(user: Optional[int], out: Any, err: Any, which: str) -> int:
    source: Optional[_Source] = _registry.get(user or 0)
    try:
        fn = getattr(source, which, None) if source is not None else None
        if fn is None:
            raise RuntimeError("token source is gone")
        out[0] = _capi.malloc_string(_encode(fn()))
        return _capi.MODELS_OK
    except BaseException as exc:
        return _fail(exc, err, "token source %s" % which)


_TOKEN_SOURCE: Optional[Any] = None
_TOKEN_SOURCE_NO_URL: Optional[Any] = None


def _token_tables() -> Any:
    global _TOKEN_SOURCE, _TOKEN_SOURCE_NO_URL
    if _TOKEN_SOURCE is None:
        get_token = _capi.token_get_fn(lambda user, out, err: _get(user, out, err, "get_token"))
        get_url = _capi.token_get_fn(lambda user, out, err: _get(user, out, err, "get_api_url"))
        destroy = _capi.token_destroy_fn(_destroy)
        _TOKEN_SOURCE = _capi.models_token_source(get_token, get_url, destroy)
        _TOKEN_SOURCE_NO_URL = _capi.models_token_source(get_token, _capi.token_get_fn(), destroy)
    return _TOKEN_SOURCE, _TOKEN_SOURCE_NO_URL


def register_copilot(router: int, token_source: Any) -> None:
    """models_router_add_copilot with the trampolines and a new registry entry."""
    lib = _capi.load()
    add = getattr(lib, "models_router_add_copilot", None)
    if add is None:
        raise NotImplementedError("this libmodels (%s) has no models_router_add_copilot"
                                  % _capi.library_path())
    get_token = getattr(token_source, "get_token", None)
    if get_token is None:
        if not callable(token_source):
            raise TypeError("token_source needs a get_token() method or must be callable")
        get_token = token_source
    get_api_url = getattr(token_source, "get_api_url", None)
    with_url, without_url = _token_tables()
    key = next(_ids)
    _registry[key] = _Source(get_token, get_api_url)
    err = ctypes.c_void_p()
    table = with_url if get_api_url is not None else without_url
    code = add(router, ctypes.byref(table), key, ctypes.byref(err))
    if code != _capi.MODELS_OK:
        _registry.pop(key, None)
        raise error_from_c(code, err.value)
