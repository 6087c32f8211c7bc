# SPDX-License-Identifier: Apache-2.0
"""achat() and astream() on the library's engine (models_engine_*), driven by
the running asyncio event loop: no thread per call.

One engine per (router, event loop), created on the first call from that loop.
Its descriptor (models_engine_fd) is watched with loop.add_reader(); when it is
readable, models_engine_process(e, 0) does what is ready and calls the C
callbacks below, on the loop's thread. They settle futures and fill the
buffers AsyncStream reads; nothing waits inside the library.

The C callbacks are three module-level ctypes functions (alive as long as the
module); a call's `user` pointer is an integer key into _calls, whose entry
holds the future or stream buffer and the call's models_call. The entry goes
when on_done comes (exactly once per started call), so everything the C side
may touch lives until then, even for a task cancelled long before.

An engine ends when its router is closed (once its calls are over) or when its
loop is garbage-collected (calls still in flight end with
ModelsCancelledError, their futures left alone).
"""

from __future__ import annotations

import asyncio
import codecs
import ctypes
import itertools
import json
import logging
import threading
import weakref
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

from . import _capi
from ._errors import ModelsError, error_from_c, error_from_lent
from ._handles import Call, Handle

logger = logging.getLogger("libmodels")

_CHUNK, _THINKING, _USAGE, _END, _ERROR = range(5)  # as in _stream
_OPENING, _OPEN, _FINISHED = range(3)

Item = Tuple[int, Any]

_string_at = ctypes.string_at
_calls: Dict[int, Any] = {}
_keys = itertools.count(1)
#: KeyboardInterrupt (or SystemExit) that struck inside a C callback, which
#: cannot unwind into C: raised when models_engine_process returns.
_interrupted: List[BaseException] = []


class LoopEngine:
    """A models_engine driven by one asyncio event loop."""

    def __init__(self, router: Handle, loop: asyncio.AbstractEventLoop) -> None:
        lib = _capi.load()
        err = ctypes.c_void_p()
        ptr = router.acquire()
        try:
            engine = lib.models_engine_new(ptr, ctypes.byref(err))
        finally:
            router.release()
        if not engine:
            raise error_from_c(_capi.MODELS_ERR_NOMEM, err.value)
        self.ptr: int = engine
        self.fd: int = lib.models_engine_fd(engine)
        self.thread = threading.get_ident()
        self.loop_ref = weakref.ref(loop)
        self.pending = 0  # calls started and their on_done not yet come
        self.closing = False
        self.processing = False
        try:
            loop.add_reader(self.fd, self._process)
        except BaseException:
            lib.models_engine_free(engine)
            self.ptr = 0
            raise
        # A loop that goes away (asyncio.run() returned and the loop was dropped)
        # takes its engine with it; not at interpreter exit, where nothing is gained.
        self._loop_gone = weakref.finalize(loop, self.free)
        self._loop_gone.atexit = False

    def _process(self) -> None:
        ptr = self.ptr
        if not ptr:
            return
        self.processing = True
        try:
            _capi.load().models_engine_process(ptr, 0)
        finally:
            self.processing = False
        if self.closing and self.pending == 0:
            self.free()
        if _interrupted:
            exc = _interrupted.pop()
            del _interrupted[:]
            raise exc  # asyncio lets KeyboardInterrupt out of run_until_complete

    def on_loop_thread(self) -> bool:
        return threading.get_ident() == self.thread

    def close_when_idle(self) -> None:
        """The router is closed: free the engine once its calls are over (any thread)."""
        self.closing = True
        loop = self.loop_ref()
        if loop is None or loop.is_closed():
            self.free()  # nothing processes it any more
            return
        try:
            loop.call_soon_threadsafe(self._free_if_idle)
        except RuntimeError:  # closed meanwhile
            self.free()

    def _free_if_idle(self) -> None:
        if self.pending == 0 and not self.processing:
            self.free()

    def free(self) -> None:
        """models_engine_free: calls in flight end with MODELS_ERR_CANCELLED (their
        on_done runs here). On the loop's thread, or once the loop is closed or gone."""
        ptr, self.ptr = self.ptr, 0
        if not ptr:
            return
        self._loop_gone.detach()
        loop = self.loop_ref()
        if loop is not None and not loop.is_closed():
            try:
                loop.remove_reader(self.fd)
            except Exception:  # noqa: BLE001 - the loop is going away
                pass
        _capi.load().models_engine_free(ptr)

    def settle(self, fn: Callable[..., None], *args: Any) -> None:
        """Runs fn(*args) on the loop's thread: now when this is it, else soon."""
        if self.on_loop_thread():
            fn(*args)
            return
        loop = self.loop_ref()
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:
            pass


class Engines:
    """A router's engines, one per event loop that made calls on it."""

    def __init__(self, router: Handle) -> None:
        self._router = router
        self._lock = threading.Lock()
        self._by_loop: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopEngine]" = \
            weakref.WeakKeyDictionary()
        self._closed = False

    def get(self, loop: asyncio.AbstractEventLoop) -> LoopEngine:
        """The running loop's engine (created on first use, on the loop's thread)."""
        with self._lock:
            engine = self._by_loop.get(loop)
            if engine is not None and engine.ptr and not engine.closing:
                return engine
            engine = LoopEngine(self._router, loop)  # raises InvalidArgumentError once the router is closed
            self._by_loop[loop] = engine
            return engine

    def close(self) -> None:
        with self._lock:
            engines = list(self._by_loop.values())
            self._by_loop.clear()
        for engine in engines:
            engine.close_when_idle()


# ---- the C callbacks (on the loop's thread, inside models_engine_process) -------------


def _caught(exc: BaseException) -> None:
    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
        _interrupted.append(exc)
    else:
        logger.error("libmodels: internal error in an engine callback", exc_info=exc)


def _done(user: Optional[int], code: int, response: Optional[bytes], err: Optional[int]) -> None:
    try:
        entry = _calls.pop(user or 0, None)
        if entry is None:
            return
        engine = entry.engine
        engine.pending -= 1
        entry.call.free()
        error = error_from_lent(code, err) if code != _capi.MODELS_OK else None
        engine.settle(entry.finish, response, error)
    except BaseException as exc:  # noqa: BLE001 - nothing may unwind into C
        _caught(exc)


def _chunk(user: Optional[int], data: Optional[int], size: int) -> int:
    try:
        feed = _calls.get(user or 0)
        if feed is None or feed.stopped:
            return 1
        text = _string_at(data or 0, size)
        if feed.state == _OPENING:
            feed.opened_with(text)
        feed.items.append((_CHUNK, text))
        if feed.waiters:
            feed.wake()
        return 0
    except BaseException as exc:  # noqa: BLE001
        _caught(exc)
        return 1


def _thinking(user: Optional[int], data: Optional[int], size: int) -> None:
    try:
        feed = _calls.get(user or 0)
        if feed is None or feed.stopped or not data or not size:
            return
        piece = feed.decoder.decode(_string_at(data, size))
        if feed.state == _OPENING:
            feed.state = _OPEN
        if piece:
            feed.items.append((_THINKING, piece))
            if feed.waiters:
                feed.wake()
    except BaseException as exc:  # noqa: BLE001
        _caught(exc)


DONE_FN = _capi.models_done_fn(_done)
CHUNK_FN = _capi.models_chunk_fn(_chunk)
THINKING_FN = _capi.models_text_fn(_thinking)


def _start(engine: LoopEngine, entry: Any, submit: Callable[[int, ctypes.c_void_p], int]) -> None:
    """Registers `entry` under a new key and submits the call; raises the
    library's error (and forgets the entry) when it refuses the call."""
    key = next(_keys)
    _calls[key] = entry
    engine.pending += 1
    err = ctypes.c_void_p()
    code = submit(key, err)
    if code != _capi.MODELS_OK:
        del _calls[key]
        engine.pending -= 1
        entry.call.free()
        raise error_from_c(code, err.value)


# ---- achat ------------------------------------------------------------------------------


class _Chat:
    __slots__ = ("engine", "call", "future")

    def __init__(self, engine: LoopEngine, call: Call, future: "asyncio.Future[bytes]") -> None:
        self.engine = engine
        self.call = call
        self.future = future

    def finish(self, response: Optional[bytes], error: Optional[ModelsError]) -> None:
        if self.future.done():  # cancelled
            return
        if error is not None:
            self.future.set_exception(error)
        elif response is None:
            self.future.set_exception(error_from_c(_capi.MODELS_ERR_PROTOCOL, None))
        else:
            self.future.set_result(response)


async def chat(engines: Engines, request: bytes, options: Optional[bytes],
               function: str = "models_chat_async") -> Any:
    """models_chat_async (or `function`, models_embed_async) on the running loop's engine; the answer as a dict."""
    loop = asyncio.get_running_loop()
    engine = engines.get(loop)
    future: "asyncio.Future[bytes]" = loop.create_future()
    call = Call()
    lib = _capi.load()
    submit = getattr(lib, function)
    _start(engine, _Chat(engine, call, future), lambda key, err: submit(
        engine.ptr, request, options, call.ptr, DONE_FN, key, ctypes.byref(err)))
    try:
        text = await future
    except asyncio.CancelledError:
        call.cancel()  # on_done follows on the loop's thread and frees the call
        raise
    return json.loads(text)


# ---- astream ----------------------------------------------------------------------------


class Feed:
    """The engine side of an AsyncStream: the buffer its callbacks fill, with the
    interface of _stream._Pump (state, model, stopped, await_open, anext_item,
    await_finished, cancel). Chunks carry the usage (usage_in_chunks)."""

    usage_in_chunks = True

    def __init__(self, engines: Engines, request: bytes, options: Optional[bytes], thinking: bool) -> None:
        self._engines = engines
        self._request = request
        self._options = options
        self._thinking = thinking
        self.engine: Optional[LoopEngine] = None
        self.call: Optional[Call] = None
        self.items: Deque[Item] = deque()
        self.waiters: List["asyncio.Future[None]"] = []
        self.state = _OPENING
        self.open_error: Optional[BaseException] = None
        self.model: Optional[str] = None
        self.stopped = False
        self.started = False
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")

    # ---- producer (C callbacks, on the loop's thread) -------------------------------

    def opened_with(self, first_chunk: bytes) -> None:
        self.state = _OPEN
        try:
            model = json.loads(first_chunk).get("model")
            self.model = model if isinstance(model, str) else None
        except (ValueError, AttributeError):
            pass

    def wake(self) -> None:
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def finish(self, _response: Optional[bytes], error: Optional[ModelsError]) -> None:
        if error is not None:
            if self.state == _OPENING:
                self.open_error = error
            else:
                self.items.append((_ERROR, error))
        else:
            self.items.append((_END, None))
        self.state = _FINISHED
        self.wake()

    # ---- consumer (the loop's thread) ------------------------------------------------

    def start(self) -> None:
        """Submits the stream on the running loop's engine (once)."""
        if self.started:
            return
        self.started = True
        if self.stopped:
            self.state = _FINISHED
            return
        try:
            engine = self.engine = self._engines.get(asyncio.get_running_loop())
            call = self.call = Call()
            lib = _capi.load()
            _start(engine, self, lambda key, err: lib.models_stream_async(
                engine.ptr, self._request, self._options, call.ptr, CHUNK_FN,
                THINKING_FN if self._thinking else _capi.models_text_fn(), DONE_FN, key, ctypes.byref(err)))
        except BaseException as exc:  # refused before it started: the stream's open error
            self.open_error = exc
            self.state = _FINISHED

    def cancel(self) -> None:
        """Stops the stream (any thread): the transfer is aborted, on_done follows."""
        self.stopped = True
        call = self.call
        if call is not None:
            call.cancel()
        elif not self.started:
            self.started = True
            self.state = _FINISHED

    async def _wait(self) -> None:
        waiter: "asyncio.Future[None]" = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        await waiter

    async def await_open(self) -> None:
        self.start()
        try:
            while self.state == _OPENING:
                await self._wait()
        except asyncio.CancelledError:
            self.cancel()
            raise
        if self.open_error is not None:
            raise self.open_error

    async def anext_item(self) -> Item:
        self.start()
        items = self.items
        try:
            while True:
                if items:
                    return items.popleft()
                if self.state == _FINISHED:
                    return (_END, None)
                await self._wait()
        except asyncio.CancelledError:
            self.cancel()
            raise

    async def await_finished(self) -> None:
        self.start()
        while self.state != _FINISHED:
            await self._wait()


def feed_for(engines: Engines, request: bytes, options: Optional[bytes], thinking: bool) -> Feed:
    """A Feed, submitted now when a loop runs on this thread (else on first await)."""
    feed = Feed(engines, request, options, thinking)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return feed
    feed.start()
    return feed
