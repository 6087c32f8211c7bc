# SPDX-License-Identifier: Apache-2.0
"""Router: the Pythonic face of models_router."""

from __future__ import annotations

import ctypes
import json
import os
import weakref
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from . import _capi, _engine, _sigint, _threads
from ._cooldown import Cooldown
from ._embeddings import CreateEmbeddingResponse
from ._errors import InvalidArgumentError, error_from_c
from ._events import EventHandler, EventSink
from ._handles import Call, Handle
from ._options import prepare, prepare_embeddings
from ._providers import register_copilot, register_provider
from ._stream import AsyncStream, Stream, open_async_stream, open_stream
from ._types import ChatCompletion

Message = Mapping[str, Any]
Config = Union[Mapping[str, Any], str, bytes]


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _chat_now(router: Handle, request: bytes, options: Optional[bytes], call: Optional[Call],
              function: str = "models_chat_ex") -> bytes:
    """models_chat_ex (or `function`, models_embed_ex) on the calling thread. Releases `router` and frees `call`,
    the response and the error, even when KeyboardInterrupt strikes as the call
    returns."""
    lib = _capi.load()
    response, err = ctypes.c_void_p(), ctypes.c_void_p()
    try:
        code = getattr(lib, function)(router.ptr, request, options, call.ptr if call is not None else None,
                                      ctypes.byref(response), ctypes.byref(err))
        if code != _capi.MODELS_OK:
            error, err.value = err.value, None
            raise error_from_c(code, error)
        text, response.value = response.value, None
        answer = _capi.take_string(text)
        if answer is None:
            raise error_from_c(_capi.MODELS_ERR_PROTOCOL, None)
        return answer
    finally:
        if response.value:
            lib.models_free(response.value)
        if err.value:
            lib.models_error_free(err.value)
        if call is not None:
            call.free()
        router.release()


def _close_router(handle: Handle, sinks: List[EventSink], engines: _engine.Engines) -> None:
    """Removes the event handler (so no call can reach a Python callback once
    the sinks go), then frees the router once no call uses it, and its engines
    once their calls are over."""
    if sinks:
        try:
            ptr = handle.acquire()
        except InvalidArgumentError:
            ptr = 0
        if ptr:
            try:
                _capi.load().models_router_set_event_handler(ptr, _capi.models_event_fn(), None)
            finally:
                handle.release()
    handle.close()
    engines.close()


def _threads_forced() -> bool:
    """LIBMODELS_ASYNC=threads: achat/astream on worker threads, as before 0.x's engine."""
    return os.environ.get("LIBMODELS_ASYNC", "") == "threads"


class Router:
    """A router: providers, a primary model and its fallbacks, retries, timeouts,
    cooldowns and rate limits (models_router_new).

    ``config`` is the router's JSON config, as a dict or as JSON text, e.g.
    ``{"primary": "openai/gpt-4o", "fallbacks": ["anthropic/claude-sonnet-4-6"],
    "providers": {"openai": {"api_key_env": "OPENAI_API_KEY"}}}``; an unknown key
    or a wrong type raises InvalidArgumentError naming the key.

    One Router may be used from many threads at once. close() (or leaving a
    ``with`` block) frees it once the calls still running on it return.

    ``on_event``, when given, receives the router's events: see on_event().
    """

    def __init__(self, config: Config, on_event: Optional[EventHandler] = None) -> None:
        """Wraps models_router_new (and models_router_set_event_handler for ``on_event``)."""
        if isinstance(config, str):
            text = config.encode("utf-8")
        elif isinstance(config, (bytes, bytearray)):
            text = bytes(config)
        else:
            text = _dumps(dict(config))
        lib = _capi.load()
        err = ctypes.c_void_p()
        ptr = lib.models_router_new(text, ctypes.byref(err))
        if not ptr:
            raise error_from_c(_capi.MODELS_ERR_INVALID_ARGUMENT, err.value)
        self._handle = Handle(ptr, lib.models_router_free, "router")
        # Every event sink set on this router: kept until it is closed, because a
        # handler replaced from inside an event may still be running its callback.
        self._sinks: List[EventSink] = []
        # achat/astream run on an engine per event loop, unless a Copilot token
        # source written in Python was added: the engine would call it on the
        # loop's thread, blocking the loop (worker threads instead).
        self._engines = _engine.Engines(self._handle)
        self._python_token_source = False
        self._finalizer = weakref.finalize(self, _close_router, self._handle, self._sinks, self._engines)
        if on_event is not None:
            try:
                self.on_event(on_event)
            except BaseException:
                self.close()
                raise

    # ---- lifecycle -------------------------------------------------------------

    def close(self) -> None:
        """Frees the router (models_router_free) once no call uses it; later calls
        raise InvalidArgumentError. Safe to call more than once. Do not call
        it from an event handler."""
        self._finalizer()

    @property
    def closed(self) -> bool:
        return self._handle.closed

    def __enter__(self) -> "Router":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ---- chat --------------------------------------------------------------------

    def chat(self, messages: Iterable[Message], model: Optional[str] = None,
             tools: Optional[Sequence[Any]] = None, **params: Any) -> ChatCompletion:
        """Sends a chat request and returns the "chat.completion" dict (models_chat_ex):
        a plain dict, typed as ChatCompletion for type checkers.

        ``messages`` are OpenAI Chat Completions messages; ``model`` (optional)
        sends the request to that model (or group of the config's
        "model_groups") alone instead of the primary and its fallbacks. The
        answer's "model" is the full name of the model that answered
        ("openai/gpt-4o"; for a group, the deployment), as in stream chunks.

        Keywords, as with the openai SDK:

        - OpenAI chat parameters (temperature, max_tokens, response_format,
          ...) go into the request body as they are; any other field goes
          through ``extra_body={...}``, merged into the body. Any other
          keyword raises TypeError naming it.
        - Options for this call only, never sent in the body: ``timeout``
          (seconds, per model, retries included), ``max_retries``,
          ``fallbacks`` (model names tried instead of the configured ones;
          ``[]`` for none), ``stream_idle_timeout`` and ``stream_timeout``
          (seconds), ``extra_headers`` (sent with every attempt; their values
          are never logged), ``extra_query`` (added to the URL),
          ``metadata`` (a dict handed back in the router's events: see
          on_event()) and ``x_libmodels`` (True: the answer gets an
          "x_libmodels" dict with the model, attempts, latency_ms and
          cost_usd; False: it does not, whatever the config says),
          ``hedge_after`` (seconds; 0: off): when the first model has sent
          nothing within that time, the request also goes to the next
          candidate and the first answer wins (the config's
          "hedge_after_ms", for this call).

        Raises a ModelsError subclass on failure. Ctrl-C interrupts the call
        promptly (the transfer is cancelled) and raises KeyboardInterrupt.
        """
        request, options = prepare("chat", messages, model, tools, params)
        handle = self._handle
        handle.acquire()
        if _sigint.mode() == _sigint.DIRECT:
            return json.loads(_chat_now(handle, request, options, None))  # type: ignore[no-any-return]
        try:
            call = Call()
        except BaseException:
            handle.release()
            raise
        return json.loads(_threads.call_blocking(  # type: ignore[no-any-return]
            lambda: _chat_now(handle, request, options, call), call.cancel))

    def _on_engine(self) -> bool:
        return not self._python_token_source and _capi.has("models_chat_async") and not _threads_forced()

    async def achat(self, messages: Iterable[Message], model: Optional[str] = None,
                    tools: Optional[Sequence[Any]] = None, **params: Any) -> ChatCompletion:
        """chat() for asyncio, with the same keywords. Runs on the router's engine
        for the running event loop (models_chat_async; its descriptor is watched
        with loop.add_reader): no thread per call, never blocking the loop.
        Cancelling the awaiting task cancels the call in the library
        (models_call_cancel) and its transfer.

        A router with a Copilot token source written in Python (add_copilot)
        runs achat on worker threads instead (models_chat_ex), as does any
        router when the environment has LIBMODELS_ASYNC=threads."""
        request, options = prepare("achat", messages, model, tools, params)
        if self._on_engine():
            return await _engine.chat(self._engines, request, options)  # type: ignore[no-any-return]
        handle = self._handle
        handle.acquire()
        try:
            call = Call()
        except BaseException:
            handle.release()
            raise
        text = await _threads.run_async(lambda: _chat_now(handle, request, options, call), call.cancel)
        return json.loads(text)  # type: ignore[no-any-return]

    def stream(self, messages: Iterable[Message], model: Optional[str] = None,
               tools: Optional[Sequence[Any]] = None, *,
               on_thinking: Optional[Callable[[str], Any]] = None, **params: Any) -> Stream:
        """Sends a request as a stream (models_stream_open_ex) and returns a
        Stream once a provider accepted it; iterate it for chunk dicts. Takes
        the keywords of chat().

        ``on_thinking`` receives the model's thinking text (Anthropic extended
        thinking, "reasoning_content") piece by piece, on the iterating thread.
        Raises a ModelsError subclass when no provider accepted the request.
        """
        request, options = prepare("stream", messages, model, tools, params)
        return open_stream(self._handle, request, options, on_thinking)

    def astream(self, messages: Iterable[Message], model: Optional[str] = None,
                tools: Optional[Sequence[Any]] = None, *,
                on_thinking: Optional[Callable[[str], Any]] = None, **params: Any) -> AsyncStream:
        """stream() for asyncio: ``async for chunk in router.astream(...)`` or
        ``async with router.astream(...) as stream``. Runs on the router's engine
        for the running event loop (models_stream_async), like achat(): nothing
        blocks the event loop, no thread per stream; cancelling the consuming
        task or closing the stream early cancels the transfer. ``on_thinking``
        may be a plain function or a coroutine function; it runs in the
        consuming task. ``usage`` comes from the chunks' "usage" (OpenAI
        providers send it with ``stream_options={"include_usage": True}``;
        Anthropic's last chunk carries it)."""
        request, options = prepare("astream", messages, model, tools, params)
        if self._on_engine():
            self._handle.acquire()  # raises InvalidArgumentError once closed
            self._handle.release()
            return AsyncStream(_engine.feed_for(self._engines, request, options, on_thinking is not None),
                               on_thinking)
        return open_async_stream(self._handle, request, options, on_thinking)

    # ---- embeddings ----------------------------------------------------------------

    def embed(self, input: Any, model: Optional[str] = None, **params: Any) -> CreateEmbeddingResponse:
        """Sends an OpenAI embeddings request and returns the answer
        (models_embed_ex), routed as chat() is: ``model`` (a model or a group)
        alone, else the primary and its fallbacks; retries, cooldowns, rate
        limits. ``input`` is a string, a list of strings, a list of tokens or
        a list of token lists. The answer is a dict that also reads like the
        openai SDK's CreateEmbeddingResponse (``resp.data[0].embedding``,
        ``resp.usage.prompt_tokens``); its "model" is the model that answered.

        Keywords: ``dimensions``, ``encoding_format`` and ``user`` go into the
        request; ``extra_body`` is merged into it; ``timeout``, ``max_retries``,
        ``fallbacks``, ``extra_headers``, ``extra_query``, ``metadata`` and
        ``x_libmodels`` are options, as for chat(). Any other keyword raises
        TypeError. A provider without embeddings (Anthropic) raises
        InvalidArgumentError."""
        request, options = prepare_embeddings("embed", input, model, params)
        handle = self._handle
        handle.acquire()
        if _sigint.mode() == _sigint.DIRECT:
            return CreateEmbeddingResponse.from_answer(json.loads(_chat_now(handle, request, options, None, "models_embed_ex")))
        try:
            call = Call()
        except BaseException:
            handle.release()
            raise
        text = _threads.call_blocking(lambda: _chat_now(handle, request, options, call, "models_embed_ex"), call.cancel)
        return CreateEmbeddingResponse.from_answer(json.loads(text))

    async def aembed(self, input: Any, model: Optional[str] = None, **params: Any) -> CreateEmbeddingResponse:
        """embed() for asyncio, with the same keywords, on the router's engine for
        the running event loop (models_embed_async), as achat() is; cancelling
        the awaiting task cancels the call."""
        request, options = prepare_embeddings("aembed", input, model, params)
        if self._on_engine() and _capi.has("models_embed_async"):
            answer = await _engine.chat(self._engines, request, options, "models_embed_async")
            return CreateEmbeddingResponse.from_answer(answer)
        handle = self._handle
        handle.acquire()
        try:
            call = Call()
        except BaseException:
            handle.release()
            raise
        text = await _threads.run_async(lambda: _chat_now(handle, request, options, call, "models_embed_ex"), call.cancel)
        return CreateEmbeddingResponse.from_answer(json.loads(text))

    # ---- management ----------------------------------------------------------------

    def set_models(self, primary: str, fallbacks: Sequence[str] = ()) -> None:
        """Replaces the primary model and the fallbacks while requests may be in
        flight (models_router_set_models)."""
        names = [f.encode("utf-8") for f in fallbacks]
        array = (ctypes.c_char_p * len(names))(*names) if names else None
        ptr = self._handle.acquire()
        try:
            err = ctypes.c_void_p()
            code = _capi.load().models_router_set_models(ptr, primary.encode("utf-8"), array,
                                                         len(names), ctypes.byref(err))
            if code != _capi.MODELS_OK:
                raise error_from_c(code, err.value)
        finally:
            self._handle.release()

    def health(self) -> List[Dict[str, Any]]:
        """Each model in routing order with its provider, availability and, when
        unavailable, the reason; calls no API (models_router_health). A group
        stands for its deployments, each a dict with its "group"; every dict
        has "in_flight", "requests_this_minute" and "tokens_this_minute",
        "latency_ms" once it answered, and "rpm"/"tpm" when the deployment
        has those limits."""
        ptr = self._handle.acquire()
        try:
            text = _capi.take_string(_capi.load().models_router_health(ptr))
        finally:
            self._handle.release()
        return json.loads(text) if text else []

    @property
    def providers(self) -> List[str]:
        """The registered provider names, sorted (models_router_providers)."""
        ptr = self._handle.acquire()
        try:
            text = _capi.take_string(_capi.load().models_router_providers(ptr))
        finally:
            self._handle.release()
        return json.loads(text) if text else []

    def metrics(self) -> str:
        """The router's counters and latency histograms in the Prometheus text
        format, ready for a /metrics endpoint (models_router_metrics): calls,
        attempts, errors by kind, retries, fallbacks, cooldowns, tokens and
        cost (models with a price in the config's "prices") per model, and
        histograms in seconds of call and attempt latency and of a stream's
        time to its first word."""
        ptr = self._handle.acquire()
        try:
            text = _capi.take_string(_capi.load().models_router_metrics(ptr))
        finally:
            self._handle.release()
        return text.decode("utf-8") if text else ""

    def on_event(self, handler: Optional[EventHandler]) -> None:
        """Sends the router's events to ``handler`` (None removes it;
        models_router_set_event_handler): one dict per thing the router does
        for a call, in order — "call.start", "attempt.start", "first_token"
        (streams), "attempt.end", "retry", "cooldown.start", "cooldown.end",
        "fallback", "rate_limit.wait", "cooldown.wait", "call.end" — under the key "event", with
        OpenTelemetry GenAI names ("gen_ai.request.model",
        "gen_ai.usage.input_tokens", "error.type", ...) and the library's own
        ("libmodels.call_id" groups one call's events, "libmodels.latency_ms",
        "libmodels.cost_usd", "libmodels.metadata" holds the call's
        ``metadata=``). See models.h for every member.

        A plain function is called on the thread making the call (for achat()
        and astream(), the event loop's thread), possibly on several threads at once,
        and delays that call by its own duration; keep it short. An ``async
        def`` function must be registered from inside a running event loop: each
        event is scheduled on that loop (run_coroutine_threadsafe), so the call
        does not wait for it. Exceptions raised by the handler are logged on the
        "libmodels" logger, never raised into the call. When this method
        returns, the previous handler is no longer called.
        """
        sink = EventSink(handler) if handler is not None else None
        ptr = self._handle.acquire()
        try:
            if sink is not None:
                self._sinks.append(sink)
            function = sink.c_function if sink is not None else _capi.models_event_fn()
            code = _capi.load().models_router_set_event_handler(ptr, function, None)
            if code != _capi.MODELS_OK:
                raise error_from_c(code, None)
        finally:
            self._handle.release()

    def set_cooldown(self, cooldown: Optional[Cooldown]) -> None:
        """Makes the router use `cooldown` (shared with whoever else uses it)
        instead of its own tracker; None turns cooldowns off
        (models_router_set_cooldown)."""
        ptr = self._handle.acquire()
        try:
            if cooldown is None:
                code = _capi.load().models_router_set_cooldown(ptr, None)
            else:
                with cooldown._use() as cd:
                    code = _capi.load().models_router_set_cooldown(ptr, cd)
            if code != _capi.MODELS_OK:
                raise error_from_c(code, None)
        finally:
            self._handle.release()

    def add_provider(self, name: str, provider: Any) -> None:
        """Registers (or replaces) the provider `name`, written in Python
        (models_router_add_provider). The router routes, retries, falls back and
        cools down for it as for a built-in one.

        ``provider`` has ``chat(model_id: str, request: dict) -> dict`` (a
        "chat.completion") and, to stream, ``stream(model_id, request)``
        returning an iterable of "chat.completion.chunk" dicts; a plain callable
        serves as ``chat``. Their "model" may be anything or absent: callers
        get the full name ("name/model-id"). To fail, raise a ModelsError subclass (e.g.
        ``APIError("busy", status_code=503)``, which the router retries); any
        other exception fails the request with APIError. The methods are called
        from the threads making requests (for achat() and astream(), the
        engine's worker threads, at most 32 per event loop), possibly several
        at once.
        """
        ptr = self._handle.acquire()
        try:
            register_provider(ptr, name, provider)
        finally:
            self._handle.release()

    def add_copilot(self, token_source: Any) -> None:
        """Serves "github-copilot" with a token source written in Python
        (models_router_add_copilot).

        ``token_source`` has ``get_token() -> str`` (a Copilot API token) and
        optionally ``get_api_url() -> str`` (the API URL that goes with it); a
        plain callable serves as ``get_token``. Called for every request, from
        the requesting threads; raise to fail the request.
        """
        ptr = self._handle.acquire()
        try:
            register_copilot(ptr, token_source)
            self._python_token_source = True
        finally:
            self._handle.release()

    def __repr__(self) -> str:
        return "<libmodels.Router%s>" % (" closed" if self.closed else "")
