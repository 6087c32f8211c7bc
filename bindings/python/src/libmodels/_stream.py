# SPDX-License-Identifier: Apache-2.0
"""Streams: Stream (an iterator) and AsyncStream (an async iterator).

Stream reads the pull stream on the iterating thread (models_stream_open_ex,
models_stream_next), run as _threads.call_blocking() runs any call, so Ctrl-C
interrupts a wait for the next chunk. Thinking text arrives through a ctypes
callback during models_stream_next; it is collected there and handed to
on_thinking after the call returns, in order with the chunks, on the
iterating thread.

AsyncStream sits on an _engine.Feed: the stream runs on the router's engine
for the running loop (models_stream_async), whose callbacks fill the buffer on
the loop's thread. A router with providers written in Python (which cannot run
on an engine) uses a _Pump instead: a worker thread that opens the stream,
reads it chunk by chunk into a bounded buffer and closes it when it ends or is
cancelled, waking the event loop as items arrive. Either way the event loop
never waits inside the library; cancelling goes through the stream's
models_call, which aborts the transfer promptly from any thread.
"""

from __future__ import annotations

import asyncio
import codecs
import ctypes
import inspect
import json
import threading
import warnings
import weakref
from collections import deque
from typing import (Any, AsyncIterator, Callable, Deque, Dict, Iterator, List, NamedTuple, Optional,
                    Tuple)

from . import _capi, _sigint, _threads
from ._errors import ModelsCancelledError, ModelsError, error_from_c
from ._handles import Call, Handle
from ._types import ChatCompletionChunk

#: How many items the pump reads ahead of the consumer.
BUFFER_ITEMS = 1024

_CHUNK, _THINKING, _USAGE, _END, _ERROR = range(5)
_OPENING, _OPEN, _FINISHED = range(3)

Item = Tuple[int, Any]

# Per-chunk helpers, looked up once. Decoding the bytes first skips json.loads'
# encoding detection.
_json_decode = json.JSONDecoder().decode
_string_at = ctypes.string_at


class Usage(NamedTuple):
    """Token counts a stream reported (models_stream_usage); 0 until reported.

    The names are those of a reply's "usage" (OpenAI's): ``usage._asdict()``
    equals the "usage" dict of the same answer, non-streamed.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    @property
    def input_tokens(self) -> int:
        """Deprecated: prompt_tokens (the name of 0.1)."""
        _deprecated_usage_name("input_tokens", "prompt_tokens")
        return self.prompt_tokens

    @property
    def output_tokens(self) -> int:
        """Deprecated: completion_tokens (the name of 0.1)."""
        _deprecated_usage_name("output_tokens", "completion_tokens")
        return self.completion_tokens


def _usage(prompt_tokens: int, completion_tokens: int) -> Usage:
    return Usage(prompt_tokens, completion_tokens, prompt_tokens + completion_tokens)


def _count(value: Any) -> int:
    """A token count from a chunk's "usage": a non-negative int, else 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _deprecated_usage_name(old: str, new: str) -> None:
    warnings.warn("Usage.%s is deprecated; use Usage.%s (the name reply[\"usage\"] has)"
                  % (old, new), DeprecationWarning, stacklevel=3)


class _Pump:
    """The worker-thread side of an AsyncStream and the buffer it fills (when the
    router cannot use the engine: see _engine.Feed for the usual side)."""

    usage_in_chunks = False

    def __init__(self, router: Handle, request: bytes, options: Optional[bytes], thinking: bool) -> None:
        self._router = router  # acquired by the caller; released when the pump ends
        self._request = request
        self._options = options
        self._thinking = thinking
        self.call = Call()
        self.cond = threading.Condition(threading.Lock())
        self.items: Deque[Item] = deque()
        self.state = _OPENING
        self.open_error: Optional[ModelsError] = None
        self.model: Optional[str] = None
        self.stopped = False  # the consumer cancelled or closed
        self._producer_waiting = False
        self._async_waiter: Optional[Tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]"]] = None
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._thinking_fn: Any = None

    # ---- producer (worker thread) --------------------------------------------

    def start(self) -> None:
        _threads.pool.submit(self._run)

    def _notify(self) -> None:
        # Called with self.cond held.
        if self._producer_waiting:
            self.cond.notify_all()
        waiter = self._async_waiter
        if waiter is not None:
            self._async_waiter = None
            _threads.wake_soon(waiter[0], waiter[1])

    def _push(self, *items: Item) -> None:
        with self.cond:
            self.items.extend(items)
            self._notify()

    def _on_thinking(self, _user: Optional[int], text: Optional[int], size: int) -> None:
        try:
            if text and size:
                piece = self._decoder.decode(ctypes.string_at(text, size))
                if piece:
                    self._push((_THINKING, piece))
        except BaseException:  # never let an exception unwind into the library (worker thread)
            pass

    def _run(self) -> None:
        lib = _capi.load()
        handle = None
        err = ctypes.c_void_p()
        try:
            handle = lib.models_stream_open_ex(self._router.ptr, self._request, self._options,
                                               self.call.ptr, ctypes.byref(err))
            if not handle:
                error = error_from_c(_capi.MODELS_ERR_INVALID_ARGUMENT, err.value)
                with self.cond:
                    self.open_error = error
                return
            model = lib.models_stream_model(handle)
            if self._thinking:
                self._thinking_fn = _capi.models_text_fn(self._on_thinking)
                lib.models_stream_on_thinking(handle, self._thinking_fn, None)
            with self.cond:
                self.model = model.decode("utf-8", "replace") if model else None
                self.state = _OPEN
                self._notify()
            self._pump(lib, handle)
        except BaseException as exc:  # a bug here must still end the stream
            self._push((_ERROR, exc))
        finally:
            if handle:
                lib.models_stream_close(handle)
            self._thinking_fn = None
            self.call.free()
            self._router.release()
            with self.cond:
                self.state = _FINISHED
                self._notify()

    def _pump(self, lib: ctypes.CDLL, handle: int) -> None:
        chunk, size, err = ctypes.c_void_p(), ctypes.c_size_t(), ctypes.c_void_p()
        p_chunk, p_size, p_err = ctypes.byref(chunk), ctypes.byref(size), ctypes.byref(err)
        tokens_in, tokens_out = ctypes.c_int64(), ctypes.c_int64()
        p_in, p_out = ctypes.byref(tokens_in), ctypes.byref(tokens_out)
        next_chunk, usage, string_at = lib.models_stream_next, lib.models_stream_usage, ctypes.string_at
        cond, items = self.cond, self.items
        last_usage = (0, 0)
        while True:
            with cond:
                while len(items) >= BUFFER_ITEMS and not self.stopped:
                    self._producer_waiting = True
                    cond.wait()
                    self._producer_waiting = False
                if self.stopped:
                    return
            code = next_chunk(handle, p_chunk, p_size, p_err)
            if code == _capi.MODELS_OK:
                data = string_at(chunk.value or 0, size.value)
                usage(handle, p_in, p_out)
                now = (tokens_in.value, tokens_out.value)
                if now != last_usage:
                    last_usage = now
                    self._push((_CHUNK, data), (_USAGE, now))
                else:
                    self._push((_CHUNK, data))
            elif code == _capi.MODELS_DONE:
                usage(handle, p_in, p_out)
                self._push((_USAGE, (tokens_in.value, tokens_out.value)), (_END, None))
                return
            else:
                self._push((_ERROR, error_from_c(code, err.value)))
                return

    # ---- consumer side --------------------------------------------------------

    def cancel(self) -> None:
        """Stops the stream: the transfer is aborted and the pump closes it."""
        with self.cond:
            self.stopped = True
            self._notify()
        self.call.cancel()

    def _take(self) -> Optional[Item]:
        # Called with self.cond held.
        if self.items:
            item = self.items.popleft()
            if self._producer_waiting and len(self.items) < BUFFER_ITEMS // 2:
                self.cond.notify_all()
            return item
        if self.state == _FINISHED:
            return (_END, None)
        return None

    async def _wait_async(self) -> None:
        with self.cond:
            if self.items or self.state == _FINISHED or self.open_error is not None:
                return
            loop = asyncio.get_running_loop()
            fut: "asyncio.Future[None]" = loop.create_future()
            self._async_waiter = (loop, fut)
        try:
            await fut
        finally:
            with self.cond:
                if self._async_waiter is not None and self._async_waiter[1] is fut:
                    self._async_waiter = None

    async def await_open(self) -> None:
        try:
            while True:
                with self.cond:
                    if self.state != _OPENING or self.open_error is not None:
                        break
                await self._wait_async()
        except asyncio.CancelledError:
            self.cancel()
            raise
        if self.open_error is not None:
            raise self.open_error

    async def anext_item(self) -> Item:
        try:
            while True:
                with self.cond:
                    item = self._take()
                if item is not None:
                    return item
                await self._wait_async()
        except asyncio.CancelledError:
            self.cancel()
            raise

    async def await_finished(self) -> None:
        while True:
            with self.cond:
                if self.state == _FINISHED:
                    return
            await self._wait_async()


class _StreamState:
    """What Stream and AsyncStream share: text so far, usage, model, cancelled."""

    def __init__(self, on_thinking: Optional[Callable[[str], Any]]) -> None:
        self._on_thinking = on_thinking
        self._pieces: List[str] = []
        self._usage = Usage()
        self._model: Optional[str] = None
        self._ended = False
        self._cancelled = False
        self._resumed: Dict[str, Any] = {}

    @property
    def resumes(self) -> int:
        """How many times the answer was resumed after a break (stream_recovery
        "resume"); 0 when it was not. Known once the last chunk was read."""
        count = self._resumed.get("count")
        return count if isinstance(count, int) else 0

    @property
    def resumed_parts(self) -> List[Dict[str, Any]]:
        """Which models answered which part of a resumed answer, in order:
        {"model", "content_bytes", "ended_by"} dicts (the last has no "ended_by");
        [] when the answer was not resumed."""
        parts = self._resumed.get("parts")
        return list(parts) if isinstance(parts, list) else []

    @property
    def model(self) -> Optional[str]:
        """The full name of the model that answered (models_stream_model): the
        "model" of every chunk, and of Router.chat()'s answer for the same model."""
        return self._model

    @property
    def usage(self) -> Usage:
        """Input and output tokens reported so far (models_stream_usage); final once
        the stream has ended."""
        return self._usage

    @property
    def text(self) -> str:
        """The "delta.content" of choice 0 of every chunk read so far, joined."""
        if len(self._pieces) > 1:
            self._pieces[:] = ["".join(self._pieces)]
        return self._pieces[0] if self._pieces else ""

    @property
    def cancelled(self) -> bool:
        """True once cancel() was called."""
        return self._cancelled

    def _chunk(self, data: bytes) -> ChatCompletionChunk:
        """The chunk dict for a chunk's JSON text, its content added to text."""
        chunk: ChatCompletionChunk = _json_decode(data.decode("utf-8", "replace"))
        extra = chunk.get("x_libmodels")
        if isinstance(extra, dict) and isinstance(extra.get("resumed"), dict):
            self._resumed = extra["resumed"]
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) == 0:
                content = (choice.get("delta") or {}).get("content")
                if isinstance(content, str) and content:
                    self._pieces.append(content)
                break
        return chunk


class _Resources:
    """The C side of a Stream, apart from the Stream so that a finalizer can
    release it: the stream handle, its call, the router's use count, and the
    thinking pieces the C callback collects."""

    __slots__ = ("ptr", "call", "router", "thinking", "thinking_fn", "decoder", "lock")

    def __init__(self, router: Handle, call: Call, want_thinking: bool) -> None:
        self.ptr = 0
        self.call = call
        self.router: Optional[Handle] = router
        self.thinking: List[str] = []
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.thinking_fn = _capi.models_text_fn(self._on_thinking) if want_thinking else None
        self.lock = threading.Lock()

    def _on_thinking(self, _user: Optional[int], text: Optional[int], size: int) -> None:
        # Runs inside models_stream_next: collect only; on_thinking runs after it returns.
        try:
            if text and size:
                self.thinking.append(self.decoder.decode(ctypes.string_at(text, size)))
        except BaseException as exc:
            _sigint.note(exc)

    def release(self) -> None:
        """Closes the stream (models_stream_close), frees the call, releases the
        router. Idempotent; the thread iterating must not be inside a call."""
        with self.lock:
            ptr, self.ptr = self.ptr, 0
            router, self.router = self.router, None
        if ptr:
            _capi.load().models_stream_close(ptr)
        self.call.free()
        self.thinking_fn = None
        if router is not None:
            router.release()


class Stream(_StreamState, Iterator[ChatCompletionChunk]):
    """A chat stream: iterate it for "chat.completion.chunk" dicts, each with
    "model" equal to ``model``.

    Made by Router.stream(), which returns once a provider accepted the request
    (retries and fallbacks are over). Also a context manager: leaving the
    ``with`` block closes the stream. Ctrl-C while it waits for a chunk cancels
    the transfer and raises KeyboardInterrupt. One thread iterates a stream at
    a time; cancel() may be called from any thread.

    Wraps models_stream_open_ex, models_stream_next, models_stream_on_thinking,
    models_stream_usage, models_stream_model, models_call_cancel and
    models_stream_close.
    """

    def __init__(self, router: Handle, request: bytes, options: Optional[bytes],
                 on_thinking: Optional[Callable[[str], Any]]) -> None:
        super().__init__(on_thinking)
        router.acquire()
        try:
            call = Call()
        except BaseException:
            router.release()
            raise
        res = self._res = _Resources(router, call, on_thinking is not None)
        # A stream dropped without close() still closes its connection.
        self._finalizer = weakref.finalize(self, res.release)
        self._chunk_p, self._size, self._err = ctypes.c_void_p(), ctypes.c_size_t(), ctypes.c_void_p()
        self._in, self._out = ctypes.c_int64(), ctypes.c_int64()
        # byref() objects made once: models_stream_next runs once per chunk.
        self._args = (ctypes.byref(self._chunk_p), ctypes.byref(self._size), ctypes.byref(self._err))
        self._usage_args = (ctypes.byref(self._in), ctypes.byref(self._out))
        lib = _capi.load()
        err = ctypes.c_void_p()

        def open_() -> None:
            try:
                # If Ctrl-C lands between the return and the store, the stream
                # leaks its (small) handle, but not its connection: the watch has
                # cancelled the call, which closes the stream's transfer.
                res.ptr = lib.models_stream_open_ex(router.ptr, request, options, call.ptr, ctypes.byref(err))
                if not res.ptr:
                    error, err.value = err.value, None
                    raise error_from_c(_capi.MODELS_ERR_INVALID_ARGUMENT, error)
            finally:
                if err.value:
                    lib.models_error_free(err.value)

        try:
            _threads.call_blocking(open_, call.cancel)
            model = lib.models_stream_model(res.ptr)
            self._model = model.decode("utf-8", "replace") if model else None
            if res.thinking_fn is not None:
                lib.models_stream_on_thinking(res.ptr, res.thinking_fn, None)
        except BaseException:
            self._ended = True
            self._finalizer()
            raise

    def __iter__(self) -> "Stream":
        return self

    def _read(self, res: _Resources) -> Optional[bytes]:
        """models_stream_next (run so that Ctrl-C interrupts it) and
        models_stream_usage, with res.lock held: the chunk's text, or None at the end."""
        lib = _capi.load()
        err = self._err
        try:
            if _sigint.mode() == _sigint.DIRECT:
                code: int = lib.models_stream_next(res.ptr, *self._args)
            else:
                code = _threads.call_blocking(lambda: lib.models_stream_next(res.ptr, *self._args),
                                              res.call.cancel)
            if code < 0:
                error, err.value = err.value, None
                raise error_from_c(code, error)
            if code == _capi.MODELS_DONE:
                return None
            return _string_at(self._chunk_p.value or 0, self._size.value)
        finally:
            if err.value:
                lib.models_error_free(err.value)
                err.value = None
            lib.models_stream_usage(res.ptr, *self._usage_args)
            if self._in.value != self._usage[0] or self._out.value != self._usage[1]:
                self._usage = _usage(self._in.value, self._out.value)

    def __next__(self) -> ChatCompletionChunk:
        if self._ended:
            raise StopIteration
        res = self._res
        try:
            if self._cancelled:
                raise StopIteration
            try:
                with res.lock:
                    if not res.ptr:  # closed from another thread
                        raise StopIteration
                    data = self._read(res)
            except ModelsCancelledError:
                if self._cancelled or self._ended:  # cancel(), or close() from another thread
                    raise StopIteration
                raise
            finally:
                if res.thinking:
                    pieces, res.thinking[:] = list(res.thinking), []
                    if self._on_thinking is not None:
                        for piece in pieces:
                            if piece:
                                self._on_thinking(piece)
            if data is None:
                raise StopIteration
            return self._chunk(data)
        except (StopIteration, ModelsError, KeyboardInterrupt):
            # The stream is over: give its connection back now.
            self._ended = True
            self._finalizer()
            raise

    def cancel(self) -> None:
        """Cancels the stream from any thread (models_call_cancel): the transfer is
        aborted promptly and iteration ends (without an error)."""
        self._cancelled = True
        self._res.call.cancel()

    def close(self) -> None:
        """Closes the stream (models_stream_close); an unfinished stream's
        connection is closed. From another thread than the one iterating, it
        cancels the read in progress first and waits for it to return."""
        if not self._ended:
            self._ended = True
            if self._res.lock.locked():
                self._res.call.cancel()
        self._finalizer()

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return "<libmodels.Stream model=%r usage=%r>" % (self.model, tuple(self.usage))


class AsyncStream(_StreamState, AsyncIterator[ChatCompletionChunk]):
    """A chat stream for asyncio: ``async for chunk in router.astream(...)``.

    The stream starts as soon as Router.astream() returns (when called with an
    event loop running, else on the first ``await``); ``async with`` (or the
    first ``__anext__``) waits until a provider accepted it, without blocking the
    event loop, and raises the error when none did.
    Cancelling the task that awaits it cancels the transfer in the library.
    ``on_thinking`` may be a plain function or a coroutine function.
    """

    def __init__(self, pump: Any, on_thinking: Optional[Callable[[str], Any]]) -> None:
        super().__init__(on_thinking)
        self._pump = pump  # a _Pump or an _engine.Feed, started
        self._usage_in_chunks = pump.usage_in_chunks
        # An abandoned stream (never closed) stops its transfer when collected.
        self._finalizer = weakref.finalize(self, pump.cancel)

    @property
    def model(self) -> Optional[str]:
        """The full name of the model that answered (models_stream_model): the
        "model" of every chunk."""
        return self._pump.model

    def cancel(self) -> None:
        """Cancels the stream from any thread (models_call_cancel): the transfer is
        aborted promptly and iteration ends (without an error)."""
        self._cancelled = True
        self._pump.cancel()

    def _accept(self, item: Item) -> Optional[ChatCompletionChunk]:
        """The chunk an item carries (or None), after recording what it says."""
        kind, value = item
        if kind == _CHUNK:
            chunk = self._chunk(value)
            if self._usage_in_chunks:
                usage = chunk.get("usage")
                if isinstance(usage, dict):
                    self._usage = _usage(_count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens")))
            return chunk
        if kind == _USAGE:
            self._usage = _usage(*value)
            return None
        self._ended = True
        if kind == _ERROR and not self._cancelled:
            if isinstance(value, ModelsCancelledError) and self._pump.stopped:
                return None  # an aclose() that raced with the read
            raise value
        return None

    def __aiter__(self) -> "AsyncStream":
        return self

    async def __anext__(self) -> ChatCompletionChunk:
        if not self._ended and self._pump.state == _OPENING:
            await self._pump.await_open()
        while not self._ended:
            if self._cancelled:
                self._ended = True
                break
            item = await self._pump.anext_item()
            if item[0] == _THINKING:
                if self._on_thinking is not None:
                    result = self._on_thinking(item[1])
                    if inspect.isawaitable(result):
                        await result
                continue
            chunk = self._accept(item)
            if chunk is not None:
                return chunk
        raise StopAsyncIteration

    async def opened(self) -> "AsyncStream":
        """Waits until a provider accepted the request; raises when none did."""
        await self._pump.await_open()
        return self

    async def aclose(self) -> None:
        """Closes the stream, cancelling it if unfinished, without blocking the loop."""
        self._ended = True
        self._pump.cancel()
        await self._pump.await_finished()

    async def __aenter__(self) -> "AsyncStream":
        return await self.opened()

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return "<libmodels.AsyncStream model=%r usage=%r>" % (self.model, tuple(self.usage))


def open_stream(router: Handle, request: bytes, options: Optional[bytes],
                on_thinking: Optional[Callable[[str], Any]]) -> Stream:
    """A Stream, open (raises when no provider accepted the request)."""
    return Stream(router, request, options, on_thinking)


def open_async_stream(router: Handle, request: bytes, options: Optional[bytes],
                      on_thinking: Optional[Callable[[str], Any]]) -> AsyncStream:
    """An AsyncStream, opening on a worker thread."""
    router.acquire()
    try:
        pump = _Pump(router, request, options, on_thinking is not None)
    except BaseException:
        router.release()
        raise
    pump.start()
    return AsyncStream(pump, on_thinking)
