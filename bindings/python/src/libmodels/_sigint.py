# SPDX-License-Identifier: Apache-2.0
"""Ctrl-C during a blocking library call on the main thread.

Python runs signal handlers on the main thread, between bytecodes, so while
the main thread sits in models_chat() a Ctrl-C only sets a flag -- and writes
the signal number to the "wakeup fd" (signal.set_wakeup_fd) from the C-level
handler, whichever thread the kernel picked. For the duration of a call we
point the wakeup fd at a pipe that a watcher thread reads: on SIGINT it
cancels the call (models_call_cancel), the library returns within
milliseconds, and Python raises KeyboardInterrupt as the call returns. Every
byte is passed on to the previous wakeup fd (an asyncio loop's, say), which
is restored after the call. The call itself runs on the calling thread: no
thread hop, no cost beyond two set_wakeup_fd() calls.

This is only right with Python's default SIGINT handler (which raises
KeyboardInterrupt). A program's own handler may decide not to interrupt
anything, so mode() then answers OFFLOAD: the call runs on a worker thread
while the main thread waits in Python and runs the handler itself.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # no stubs; signal.getsignal wraps it
import itertools
import os
import signal
import threading
from typing import Callable, Dict, Optional, Tuple

DIRECT, WATCH, OFFLOAD = range(3)

_MAIN_IDENT = threading.main_thread().ident
# Looked up once: mode() runs for every call and every stream chunk. _signal's
# getsignal returns the raw handler (signal.getsignal wraps ints in an enum).
_get_ident = threading.get_ident
_getsignal = _signal.getsignal
_SIGINT = signal.SIGINT
_default_int_handler = signal.default_int_handler


def mode() -> int:
    """How a blocking call on this thread must run: DIRECT (no Python handler can
    interrupt it: another thread, or SIGINT left to the OS), WATCH (the main
    thread with Python's default handler) or OFFLOAD (a handler of the program's)."""
    if _get_ident() != _MAIN_IDENT:
        return DIRECT
    handler = _getsignal(_SIGINT)
    if handler is _default_int_handler:
        return WATCH
    return OFFLOAD if callable(handler) else DIRECT


class _Watcher:
    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.write_fd, False)  # set_wakeup_fd requires it
        self.lock = threading.Lock()
        self.cancels: Dict[int, Callable[[], None]] = {}
        self.forward_fd = -1
        self.depth = 0
        threading.Thread(target=self._run, name="libmodels-sigint", daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                data = os.read(self.read_fd, 512)
            except InterruptedError:
                continue
            if not data:
                return
            with self.lock:
                cancels = list(self.cancels.values()) if signal.SIGINT in data else []
                forward = self.forward_fd
            for cancel in cancels:
                try:
                    cancel()
                except BaseException:
                    pass
            if forward >= 0:
                try:
                    os.write(forward, data)
                except OSError:
                    pass


_watcher: Optional[_Watcher] = None
_keys = itertools.count(1)


def _after_fork_in_child() -> None:
    global _watcher
    _watcher = None  # its thread did not survive the fork; the next watch starts another


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

Token = Tuple[int, int]


def enter(cancel: Callable[[], None]) -> Optional[Token]:
    """Starts watching for SIGINT on behalf of a call that cancel() interrupts
    (main thread only). None when the wakeup fd cannot be set; else a token
    for leave()."""
    global _watcher
    if _watcher is None:
        _watcher = _Watcher()
    watcher = _watcher
    try:
        previous = signal.set_wakeup_fd(watcher.write_fd, warn_on_full_buffer=False)
    except (ValueError, OSError):
        return None
    key = next(_keys)
    with watcher.lock:
        if watcher.depth == 0 and previous != watcher.write_fd:
            watcher.forward_fd = previous
        watcher.depth += 1
        watcher.cancels[key] = cancel
    return (key, previous)


def leave(token: Token) -> None:
    """Ends the watch enter() started and restores the previous wakeup fd."""
    key, previous = token
    watcher = _watcher
    assert watcher is not None
    try:
        signal.set_wakeup_fd(previous)
    finally:
        with watcher.lock:
            watcher.cancels.pop(key, None)
            watcher.depth -= 1


# A KeyboardInterrupt that struck inside a ctypes callback (a thinking piece, a
# log line, a provider written in Python) on the main thread cannot unwind
# through the library: the callback notes it, the watch has cancelled the call
# (the SIGINT byte reached it), and the caller raises it once the call returns.
_noted = False


def note(exc: BaseException) -> None:
    """Called by callbacks with the exception they caught and must not propagate."""
    global _noted
    if isinstance(exc, KeyboardInterrupt) and threading.get_ident() == _MAIN_IDENT:
        _noted = True


def reraise() -> None:
    """Raises the KeyboardInterrupt a callback noted, if any (main thread)."""
    global _noted
    if _noted and threading.get_ident() == _MAIN_IDENT:
        _noted = False
        raise KeyboardInterrupt
