# SPDX-License-Identifier: Apache-2.0
"""Ownership of the C handles the Pythonic objects wrap.

A Handle frees its C object once it is closed *and* no call still uses it, so
close() from one thread can never free a router under another thread's
models_chat() (a use-after-free in C). A Call is a models_call that may be
cancelled from any thread, even after the call using it has freed it.
"""

from __future__ import annotations

import threading
from typing import Callable, Optional

from . import _capi
from ._errors import InvalidArgumentError


class Handle:
    """A C pointer with a use count: acquire() before each call, release() after."""

    __slots__ = ("ptr", "_free", "_what", "_lock", "_users", "_closed", "__weakref__")

    def __init__(self, ptr: int, free: Callable[[int], None], what: str) -> None:
        self.ptr = ptr
        self._free = free
        self._what = what
        self._lock = threading.Lock()
        self._users = 0
        self._closed = False

    def acquire(self) -> int:
        """The pointer, counted as in use until release(); InvalidArgumentError once closed."""
        with self._lock:
            if self._closed:
                raise InvalidArgumentError("%s is closed" % self._what)
            self._users += 1
            return self.ptr

    def release(self) -> None:
        with self._lock:
            self._users -= 1
            ptr = self._take_if_unused()
        if ptr:
            self._free(ptr)

    def close(self) -> None:
        """Frees the C object now, or when the last call using it returns."""
        with self._lock:
            self._closed = True
            ptr = self._take_if_unused()
        if ptr:
            self._free(ptr)

    @property
    def closed(self) -> bool:
        return self._closed

    def _take_if_unused(self) -> int:
        if self._closed and self._users == 0 and self.ptr:
            ptr, self.ptr = self.ptr, 0
            return ptr
        return 0


class Call:
    """A models_call (models_call_new): cancel() from any thread, free() by the call's owner."""

    __slots__ = ("ptr", "_lock", "cancelled")

    def __init__(self) -> None:
        ptr = _capi.load().models_call_new()
        if not ptr:
            raise MemoryError("models_call_new failed")
        self.ptr: Optional[int] = ptr
        self._lock = threading.Lock()
        self.cancelled = False

    def cancel(self) -> None:
        """models_call_cancel(); does nothing once freed."""
        with self._lock:
            self.cancelled = True
            if self.ptr:
                _capi.load().models_call_cancel(self.ptr)

    def free(self) -> None:
        """models_call_free(); later cancel() calls do nothing."""
        with self._lock:
            ptr, self.ptr = self.ptr, None
        if ptr:
            _capi.load().models_call_free(ptr)
