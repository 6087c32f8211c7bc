# SPDX-License-Identifier: Apache-2.0
"""Per-call options and the request body, split from a call's keyword arguments
the way the openai SDK splits them: ``timeout``, ``max_retries``, ``hedge_after``,
``extra_headers``, ``extra_query``, ``metadata`` and ``x_libmodels`` are options for the router;
``extra_body`` is merged into the body; every other keyword must be an OpenAI
chat parameter."""

from __future__ import annotations

import difflib
import json
import math
from typing import Any, Dict, Iterable, Mapping, Optional, Sequence, Tuple

# Chat Completions parameters a request body may carry (besides messages,
# model and tools, which are named arguments). Anything else goes through
# extra_body, so that a misspelled keyword is an error, not a silent no-op.
CHAT_PARAMETERS = frozenset((
    "audio", "frequency_penalty", "function_call", "functions", "logit_bias", "logprobs",
    "max_completion_tokens", "max_tokens", "modalities", "n", "parallel_tool_calls", "prediction",
    "presence_penalty", "prompt_cache_key", "prompt_cache_retention", "reasoning_effort",
    "response_format", "safety_identifier", "seed", "service_tier", "stop", "store",
    "stream_options", "temperature", "tool_choice", "top_logprobs", "top_p", "user", "verbosity",
    "web_search_options",
))

OPTION_NAMES = ("timeout", "max_retries", "fallbacks", "stream_idle_timeout", "stream_timeout",
                "extra_headers", "extra_query", "extra_body", "metadata", "x_libmodels", "hedge_after",
                "stream_recovery")


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _milliseconds(name: str, seconds: Any) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError("%s must be a number of seconds, not %s" % (name, type(seconds).__name__))
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError("%s must be a positive number of seconds" % name)
    return max(1, int(round(seconds * 1000)))


# Embeddings parameters a request body may carry (besides input and model).
EMBEDDINGS_PARAMETERS = frozenset(("dimensions", "encoding_format", "user"))

# Options that make no sense for embeddings (no stream).
STREAM_OPTION_NAMES = ("stream_idle_timeout", "stream_timeout")


def _check_keywords(function: str, params: Mapping[str, Any], known: "frozenset[str]" = CHAT_PARAMETERS,
                    options: Sequence[str] = OPTION_NAMES) -> None:
    for name in params:
        if name not in known:
            near = difflib.get_close_matches(name, sorted(known) + list(options), n=1)
            hint = " (did you mean %r?)" % near[0] if near else ""
            raise TypeError("%s() got an unexpected keyword argument %r%s; pass fields the library does "
                            "not know through extra_body" % (function, name, hint))


def prepare(function: str, messages: Iterable[Mapping[str, Any]], model: Optional[str],
            tools: Optional[Sequence[Any]], params: Dict[str, Any]) -> Tuple[bytes, Optional[bytes]]:
    """The request body and the options JSON (None when no option is set) of a
    call, from its keyword arguments `params` (the options are taken out)."""
    timeout, max_retries, fallbacks, stream_idle_timeout, stream_timeout, extra_headers, \
        extra_query, extra_body, metadata, x_libmodels, hedge_after, stream_recovery = (params.pop(name, None) for name in OPTION_NAMES)
    _check_keywords(function, params)
    request: Dict[str, Any] = {"messages": messages if isinstance(messages, list) else list(messages)}
    if model is not None:
        request["model"] = model
    if tools is not None:
        request["tools"] = tools if isinstance(tools, list) else list(tools)
    request.update(params)
    if extra_body is not None:
        request.update(dict(extra_body))
    options = _call_options(timeout, max_retries, fallbacks, stream_idle_timeout, stream_timeout, extra_headers,
                            extra_query, metadata, x_libmodels, hedge_after, stream_recovery)
    return _dumps(request), (_dumps(options) if options else None)


def _call_options(timeout: Any, max_retries: Any, fallbacks: Any, stream_idle_timeout: Any, stream_timeout: Any,
                  extra_headers: Any, extra_query: Any, metadata: Any, x_libmodels: Any,
                  hedge_after: Any, stream_recovery: Any) -> Dict[str, Any]:
    """The options JSON object of a call (models_chat_ex's options_json)."""
    options: Dict[str, Any] = {}
    if timeout is not None:
        options["timeout_ms"] = _milliseconds("timeout", timeout)
    if max_retries is not None:
        if isinstance(max_retries, bool) or not isinstance(max_retries, int):
            raise TypeError("max_retries must be an int, not %s" % type(max_retries).__name__)
        options["max_retries"] = max_retries
    if fallbacks is not None:
        if isinstance(fallbacks, (str, bytes)):
            raise TypeError("fallbacks must be a list of model names, not a single string")
        options["fallbacks"] = list(fallbacks)
    if stream_idle_timeout is not None:
        options["stream_idle_timeout_ms"] = _milliseconds("stream_idle_timeout", stream_idle_timeout)
    if stream_timeout is not None:
        options["stream_timeout_ms"] = _milliseconds("stream_timeout", stream_timeout)
    if extra_headers:
        options["extra_headers"] = dict(extra_headers)
    if extra_query:
        options["extra_query"] = dict(extra_query)
    if metadata is not None:
        options["metadata"] = dict(metadata)
    if x_libmodels is not None:
        if not isinstance(x_libmodels, bool):
            raise TypeError("x_libmodels must be True or False, not %s" % type(x_libmodels).__name__)
        options["x_libmodels"] = x_libmodels
    if hedge_after is not None:
        # Seconds, like timeout; 0 turns hedging off for this call.
        options["hedge_after_ms"] = 0 if hedge_after == 0 and not isinstance(hedge_after, bool) \
            else _milliseconds("hedge_after", hedge_after)
    if stream_recovery is not None:
        if stream_recovery not in ("off", "resume"):
            raise ValueError("stream_recovery must be \"off\" or \"resume\", not %r" % (stream_recovery,))
        options["stream_recovery"] = stream_recovery
    return options


def prepare_embeddings(function: str, input: Any, model: Optional[str],
                       params: Dict[str, Any]) -> Tuple[bytes, Optional[bytes]]:
    """The request body and the options JSON of an embeddings call (embed, aembed)."""
    # Hedging races first words: an embeddings answer has none.
    options_only = [name for name in OPTION_NAMES
                    if name not in STREAM_OPTION_NAMES and name not in ("hedge_after", "stream_recovery")]
    taken = {name: params.pop(name, None) for name in options_only}
    _check_keywords(function, params, EMBEDDINGS_PARAMETERS, options_only)
    if isinstance(input, (bytes, bytearray)):
        raise TypeError("input must be a string, a list of strings or a list of token lists, not bytes")
    if isinstance(input, (tuple, range)) or (not isinstance(input, (str, list)) and hasattr(input, "__iter__")):
        input = list(input)
    request: Dict[str, Any] = {"input": input}
    if model is not None:
        request["model"] = model
    request.update(params)
    if taken["extra_body"] is not None:
        request.update(dict(taken["extra_body"]))
    options = _call_options(taken["timeout"], taken["max_retries"], taken["fallbacks"], None, None,
                            taken["extra_headers"], taken["extra_query"], taken["metadata"], taken["x_libmodels"], None, None)
    return _dumps(request), (_dumps(options) if options else None)
