# SPDX-License-Identifier: Apache-2.0
"""The C API of libmodels (include/models.h), one to one, through ctypes.

This module only describes the library to ctypes: where to find it, the
signature of every function (argtypes/restype), the callback types and the
constants. It adds no behaviour; the Pythonic layer (Router, Stream, ...) is
built on it in the other modules.

Conventions kept from the header:

- Opaque handles (models_router *, models_stream *, models_call *,
  models_cooldown *, models_error *) are ``c_void_p`` (Python ints).
- ``char *`` results the caller owns are ``c_void_p`` so that the address can
  be handed back to ``models_free`` after ``ctypes.string_at`` copied the text.
- ``const char *`` results the library lends are ``c_char_p`` (ctypes copies
  them into ``bytes`` at once, while they are still valid).
- ``models_error **err`` and ``char **`` out-parameters are ``POINTER(c_void_p)``.

Library discovery (``load()``): ``$LIBMODELS_PATH`` (a file, or a directory
holding libmodels.so.1) when set, and only it; otherwise a copy next to this
package, then ``ctypes.util.find_library("models")``, then the system loader
with ``libmodels.so.1``. When nothing loads, ``LibraryNotFoundError`` lists
every attempt and why it failed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_double, c_int, c_int64, c_size_t,
                    c_void_p)
from typing import Any, Callable, List, Optional, Sequence, Tuple

# ---------------------------------------------------------------------------
# Constants (enum models_code, MODELS_LOG_*)

MODELS_OK = 0
MODELS_DONE = 1
MODELS_ERR_INVALID_ARGUMENT = -1
MODELS_ERR_NO_PROVIDER = -2
MODELS_ERR_API = -3
MODELS_ERR_TRANSPORT = -4
MODELS_ERR_TIMEOUT = -5
MODELS_ERR_CANCELLED = -6
MODELS_ERR_PROTOCOL = -7
MODELS_ERR_ALL_COOLDOWN = -8
MODELS_ERR_ALL_FAILED = -9
MODELS_ERR_NOMEM = -10

MODELS_LOG_DEBUG = 0
MODELS_LOG_INFO = 1
MODELS_LOG_WARN = 2
MODELS_LOG_ERROR = 3

#: The SONAME major version this binding speaks.
ABI_VERSION = 1

# ---------------------------------------------------------------------------
# Callback types

#: typedef int (*models_chunk_fn)(void *user, const char *chunk_json, size_t len);
models_chunk_fn = CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t)
#: typedef void (*models_text_fn)(void *user, const char *text, size_t len);
models_text_fn = CFUNCTYPE(None, c_void_p, c_void_p, c_size_t)
#: typedef void (*models_done_fn)(void *user, models_code code, const char *response_json, const models_error *err);
models_done_fn = CFUNCTYPE(None, c_void_p, c_int, c_char_p, c_void_p)
#: typedef void (*models_log_fn)(void *user, int level, const char *message);
models_log_fn = CFUNCTYPE(None, c_void_p, c_int, c_char_p)
#: void (*)(void *user, const char *event_json, size_t len)
models_event_fn = CFUNCTYPE(None, c_void_p, c_void_p, c_size_t)

# models_provider_callbacks members.
provider_chat_fn = CFUNCTYPE(c_int, c_void_p, c_char_p, c_char_p, POINTER(c_void_p), POINTER(c_void_p))
provider_stream_open_fn = CFUNCTYPE(c_int, c_void_p, c_char_p, c_char_p, POINTER(c_void_p),
                                    POINTER(c_void_p))
provider_stream_next_fn = CFUNCTYPE(c_int, c_void_p, c_void_p, POINTER(c_void_p), POINTER(c_size_t),
                                    POINTER(c_void_p))
provider_stream_close_fn = CFUNCTYPE(None, c_void_p, c_void_p)
provider_destroy_fn = CFUNCTYPE(None, c_void_p)


class _SizedStructure(Structure):
    """A struct the caller fills in: its first member, size, is sizeof the struct.

    The library refuses a table whose size is not the one of its own models.h,
    so size is always set here, from the ctypes layout, never by hand.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(ctypes.sizeof(type(self)), *args, **kwargs)


class models_provider_callbacks(_SizedStructure):
    """struct models_provider_callbacks: a provider written in (here) Python."""

    _fields_ = [
        ("size", c_size_t),
        ("chat", provider_chat_fn),
        ("stream_open", provider_stream_open_fn),
        ("stream_next", provider_stream_next_fn),
        ("stream_close", provider_stream_close_fn),
        ("destroy", provider_destroy_fn),
    ]


# models_token_source members.
token_get_fn = CFUNCTYPE(c_int, c_void_p, POINTER(c_void_p), POINTER(c_void_p))
token_destroy_fn = CFUNCTYPE(None, c_void_p)


class models_token_source(_SizedStructure):
    """struct models_token_source: a GitHub Copilot token source."""

    _fields_ = [
        ("size", c_size_t),
        ("get_token", token_get_fn),
        ("get_api_url", token_get_fn),
        ("destroy", token_destroy_fn),
    ]


# ---------------------------------------------------------------------------
# Function signatures: (name, restype, argtypes)

_err = POINTER(c_void_p)      # models_error **
_out_str = POINTER(c_void_p)  # char ** (owned) / const char ** (lent)

FUNCTIONS: Sequence[Tuple[str, Any, List[Any]]] = (
    # Version, codes, memory
    ("models_version", c_char_p, []),
    ("models_code_name", c_char_p, [c_int]),
    ("models_free", None, [c_void_p]),
    # Errors
    ("models_error_code", c_int, [c_void_p]),
    ("models_error_message", c_char_p, [c_void_p]),
    ("models_error_status", c_int, [c_void_p]),
    ("models_error_retry_after_ms", c_int64, [c_void_p]),
    ("models_error_is_transient", c_int, [c_void_p]),
    ("models_status_is_transient", c_int, [c_int]),
    ("models_error_kind", c_char_p, [c_void_p]),
    ("models_error_free", None, [c_void_p]),
    ("models_error_new", c_void_p, [c_int, c_char_p, c_int, c_int64]),
    # Routers
    ("models_router_new", c_void_p, [c_char_p, _err]),
    ("models_router_free", None, [c_void_p]),
    ("models_router_set_models", c_int, [c_void_p, c_char_p, POINTER(c_char_p), c_size_t, _err]),
    ("models_router_health", c_void_p, [c_void_p]),
    ("models_router_providers", c_void_p, [c_void_p]),
    ("models_router_metrics", c_void_p, [c_void_p]),
    ("models_router_set_event_handler", c_int, [c_void_p, models_event_fn, c_void_p]),
    # Chat
    ("models_chat", c_int, [c_void_p, c_char_p, _out_str, _err]),
    ("models_chat_stream", c_int, [c_void_p, c_char_p, models_chunk_fn, models_text_fn, c_void_p, _err]),
    # Pull streams
    ("models_stream_open", c_void_p, [c_void_p, c_char_p, _err]),
    ("models_stream_next", c_int, [c_void_p, _out_str, POINTER(c_size_t), _err]),
    ("models_stream_on_thinking", None, [c_void_p, models_text_fn, c_void_p]),
    ("models_stream_usage", None, [c_void_p, POINTER(c_int64), POINTER(c_int64)]),
    ("models_stream_model", c_char_p, [c_void_p]),
    ("models_stream_resumes", c_int, [c_void_p]),
    ("models_stream_resumed", c_void_p, [c_void_p]),
    ("models_stream_cancel", None, [c_void_p]),
    ("models_stream_collect", c_int, [c_void_p, _out_str, _err]),
    ("models_stream_close", None, [c_void_p]),
    # Calls with options
    ("models_call_new", c_void_p, []),
    ("models_call_cancel", None, [c_void_p]),
    ("models_call_is_cancelled", c_int, [c_void_p]),
    ("models_call_free", None, [c_void_p]),
    ("models_chat_ex", c_int, [c_void_p, c_char_p, c_char_p, c_void_p, _out_str, _err]),
    ("models_chat_stream_ex", c_int,
     [c_void_p, c_char_p, c_char_p, c_void_p, models_chunk_fn, models_text_fn, c_void_p, _err]),
    ("models_stream_open_ex", c_void_p, [c_void_p, c_char_p, c_char_p, c_void_p, _err]),
    # Cooldowns
    ("models_cooldown_new", c_void_p, [c_int64, c_int64, c_double]),
    ("models_cooldown_record_failure", None, [c_void_p, c_char_p]),
    ("models_cooldown_record_success", None, [c_void_p, c_char_p]),
    ("models_cooldown_is_available", c_int, [c_void_p, c_char_p]),
    ("models_cooldown_remaining_ms", c_int64, [c_void_p, c_char_p]),
    ("models_cooldown_available_from", c_void_p, [c_void_p, c_char_p]),
    ("models_cooldown_reset", None, [c_void_p, c_char_p]),
    ("models_cooldown_reset_all", None, [c_void_p]),
    ("models_cooldown_gc", None, [c_void_p]),
    ("models_cooldown_free", None, [c_void_p]),
    ("models_router_set_cooldown", c_int, [c_void_p, c_void_p]),
    # Providers written in C
    ("models_router_add_provider", c_int,
     [c_void_p, c_char_p, POINTER(models_provider_callbacks), c_void_p, _err]),
    # Model names and providers
    ("models_model_id", c_void_p, [c_char_p]),
    ("models_default_base_url", c_char_p, [c_char_p]),
    # Logging
    ("models_set_log_handler", None, [models_log_fn, c_void_p, c_int]),
)

#: Functions newer than ABI 1.0: bound when the library has them, else None.
OPTIONAL_FUNCTIONS: Sequence[Tuple[str, Any, List[Any]]] = (
    ("models_router_add_copilot", c_int, [c_void_p, POINTER(models_token_source), c_void_p, _err]),
    # The engine (issue 15): bound for the asyncio work to come; nothing uses them yet.
    ("models_engine_new", c_void_p, [c_void_p, _err]),
    ("models_engine_free", None, [c_void_p]),
    ("models_engine_fd", c_int, [c_void_p]),
    ("models_engine_process", c_int, [c_void_p, c_int]),
    ("models_engine_calls", c_int, [c_void_p]),
    ("models_engine_start_thread", c_int, [c_void_p, _err]),
    ("models_chat_async", c_int, [c_void_p, c_char_p, c_char_p, c_void_p, models_done_fn, c_void_p, _err]),
    ("models_stream_async", c_int,
     [c_void_p, c_char_p, c_char_p, c_void_p, models_chunk_fn, models_text_fn, models_done_fn, c_void_p, _err]),
    # Embeddings (issue 17).
    ("models_embed", c_int, [c_void_p, c_char_p, _out_str, _err]),
    ("models_embed_ex", c_int, [c_void_p, c_char_p, c_char_p, c_void_p, _out_str, _err]),
    ("models_embed_async", c_int, [c_void_p, c_char_p, c_char_p, c_void_p, models_done_fn, c_void_p, _err]),
)


class LibraryNotFoundError(OSError):
    """libmodels.so could not be loaded; the message lists every place tried."""


def _library_names() -> List[str]:
    return ["libmodels.so.%d" % ABI_VERSION, "libmodels.so",
            "libmodels.%d.dylib" % ABI_VERSION, "libmodels.dylib"]


def candidates() -> List[Tuple[str, str]]:
    """The (origin, path or name) pairs load() tries, in order."""
    env = os.environ.get("LIBMODELS_PATH")
    if env:
        if os.path.isdir(env):
            return [("LIBMODELS_PATH", os.path.join(env, name)) for name in _library_names()]
        return [("LIBMODELS_PATH", env)]
    here = os.path.dirname(os.path.abspath(__file__))
    found: List[Tuple[str, str]] = [("next to the package", os.path.join(here, name))
                                    for name in _library_names()]
    found.append(("ctypes.util.find_library('models')", ""))  # resolved lazily: it runs ldconfig
    found.append(("system loader", "libmodels.so.%d" % ABI_VERSION))
    return found


def _open(origin: str, path: str) -> ctypes.CDLL:
    if origin.startswith("ctypes.util"):
        name = ctypes.util.find_library("models")
        if not name:
            raise OSError("not found")
        path = name
    elif os.sep in path and not os.path.exists(path):
        raise OSError("no such file")
    return ctypes.CDLL(path)


def _bind(lib: ctypes.CDLL, path: str) -> ctypes.CDLL:
    for name, restype, argtypes in FUNCTIONS:
        try:
            fn = getattr(lib, name)
        except AttributeError:
            raise LibraryNotFoundError(
                "%s lacks %s: it is not libmodels ABI %d or it is too old" % (path, name, ABI_VERSION))
        fn.restype = restype
        fn.argtypes = argtypes
    for name, restype, argtypes in OPTIONAL_FUNCTIONS:
        fn = getattr(lib, name, None)
        if fn is not None:
            fn.restype = restype
            fn.argtypes = argtypes
    return lib


_lib: Optional[ctypes.CDLL] = None
_lib_path: Optional[str] = None
_lock = threading.Lock()


def load() -> ctypes.CDLL:
    """The loaded library, with every signature set (loads it on first use).

    Raises LibraryNotFoundError naming every attempt when no candidate loads.
    """
    lib = _lib
    if lib is not None:
        return lib
    with _lock:
        if _lib is not None:
            return _lib
        lib = _find()
    for hook in _on_load:  # outside the lock: hooks call load()
        hook(lib)
    return lib


def on_load(hook: Callable[[ctypes.CDLL], None]) -> None:
    """Runs hook(lib) right after the library is first loaded (now, if it is)."""
    _on_load.append(hook)
    if _lib is not None:
        hook(_lib)


_on_load: List[Callable[[ctypes.CDLL], None]] = []


def _find() -> ctypes.CDLL:
    global _lib, _lib_path
    tried: List[str] = []
    for origin, path in candidates():
        try:
            lib = _open(origin, path)
        except OSError as exc:
            shown = path or "models"
            tried.append("  %s: %s (%s)" % (origin, shown, str(exc).strip() or type(exc).__name__))
            continue
        _lib_path = getattr(lib, "_name", path)
        _lib = _bind(lib, _lib_path or path)
        return _lib
    hint = ("this libmodels package carries no library of its own. Install one that does "
            "(the wheel scripts/wheel builds: pip install dist/libmodels-*.whl), or the "
            "library itself (Debian: apt install libmodels1; or cmake --install build), or "
            "build it (cmake -S . -B build && cmake --build build) and set LIBMODELS_PATH to "
            "build/libmodels.so.1, or copy it next to the package with "
            "cmake --build build --target python-lib before pip install ./bindings/python")
    raise LibraryNotFoundError("libmodels shared library not found; tried:\n%s\n%s"
                               % ("\n".join(tried), hint))


def status_is_transient(status: int) -> bool:
    """models_status_is_transient: the library's one list of transient HTTP statuses."""
    if not -(1 << 31) <= status < (1 << 31):
        return False
    return bool(load().models_status_is_transient(status))


def library_path() -> Optional[str]:
    """The path or name the library was loaded from (None before load())."""
    return _lib_path


def has(name: str) -> bool:
    """True when the loaded library exports the optional function `name`."""
    return getattr(load(), name, None) is not None


# ---------------------------------------------------------------------------
# The C allocator, for strings the library frees with free() (provider answers,
# Copilot tokens).

_libc: Optional[ctypes.CDLL] = None


def _c_library() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        libc = ctypes.CDLL(None)
        libc.malloc.restype = c_void_p
        libc.malloc.argtypes = [c_size_t]
        _libc = libc
    return _libc


def malloc_string(data: bytes) -> int:
    """A NUL-terminated copy of `data` allocated with malloc() (the receiver frees it)."""
    p = _c_library().malloc(len(data) + 1)
    if not p:
        raise MemoryError("malloc failed")
    ctypes.memmove(p, data, len(data))
    ctypes.memset(p + len(data), 0, 1)
    return int(p)


def take_string(p: Optional[int]) -> Optional[bytes]:
    """Copies an owned `char *` result and frees it with models_free()."""
    if not p:
        return None
    try:
        return ctypes.string_at(p)
    finally:
        load().models_free(p)
