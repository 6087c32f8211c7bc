# SPDX-License-Identifier: Apache-2.0
"""The library's log lines, in Python (models_set_log_handler).

By default (from the first use of the library) lines at or above the
"libmodels" logger's effective level go to that logger, so an application's
logging configuration decides where they end up (nowhere, without one). set_log_handler() installs
a callable instead; use_logging() returns to the logger.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, List, Optional

from . import _capi, _sigint

logger = logging.getLogger("libmodels")
# The library convention: lines reach the application's handlers (root's), and
# nothing is printed when it configured none.
logger.addHandler(logging.NullHandler())

_TO_PYTHON = {_capi.MODELS_LOG_DEBUG: logging.DEBUG, _capi.MODELS_LOG_INFO: logging.INFO,
              _capi.MODELS_LOG_WARN: logging.WARNING, _capi.MODELS_LOG_ERROR: logging.ERROR}

# Every callback object ever installed: the library may still be calling a
# replaced handler on another thread, so none may be collected.
_installed: List[Any] = []
_lock = threading.Lock()
_configured = False


def _c_level(level: int) -> int:
    if level <= logging.DEBUG:
        return _capi.MODELS_LOG_DEBUG
    if level <= logging.INFO:
        return _capi.MODELS_LOG_INFO
    if level <= logging.WARNING:
        return _capi.MODELS_LOG_WARN
    return _capi.MODELS_LOG_ERROR


def set_log_handler(handler: Optional[Callable[[int, str], Any]], level: int = logging.INFO) -> None:
    """Sends the library's log lines at `level` (a logging level) and above to
    handler(level, message), where level is logging.DEBUG/INFO/WARNING/ERROR;
    None silences the library. The handler is called from the threads making
    requests, possibly several at once. Wraps models_set_log_handler."""
    global _configured
    lib = _capi.load()
    with _lock:
        _configured = True
        if handler is None:
            lib.models_set_log_handler(_capi.models_log_fn(), None, _capi.MODELS_LOG_ERROR)
            return

        def trampoline(_user: Optional[int], c_level: int, message: Optional[bytes]) -> None:
            try:
                handler(_TO_PYTHON.get(c_level, logging.ERROR),
                        (message or b"").decode("utf-8", "replace"))
            except BaseException as exc:  # never unwind into the library
                _sigint.note(exc)

        fn = _capi.models_log_fn(trampoline)
        _installed.append(fn)
        lib.models_set_log_handler(fn, None, _c_level(level))


def _to_logger(level: int, message: str) -> None:
    logger.log(level, "%s", message)


def use_logging(level: Optional[int] = None) -> None:
    """Sends the library's log lines to the "libmodels" logger, from `level` up
    (default: the logger's effective level, e.g. logging.DEBUG to see retries
    and fallbacks)."""
    set_log_handler(_to_logger, logger.getEffectiveLevel() if level is None else level)


def _default(lib: Any) -> None:
    """On first load: forward to the logger unless the program chose otherwise."""
    with _lock:
        if _configured:
            return
    use_logging()
