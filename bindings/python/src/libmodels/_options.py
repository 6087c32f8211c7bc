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
                "extra_headers", "extra_query", "extra_body", "metadata", "x_libmodels", "hedge_after")


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _milliseconds(name: str, seconds: Any) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError("%s must be a number of seconds, not %s" % (name, type(seconds).__name__))
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError("%s must be a positive number of seconds" % name)
    return max(1, int(round(seconds * 1000)))


def _check_keywords(function: str, params: Mapping[str, Any]) -> None:
    for name in params:
        if name not in CHAT_PARAMETERS:
            near = difflib.get_close_matches(name, sorted(CHAT_PARAMETERS) + list(OPTION_NAMES), n=1)
            hint = " (did you mean %r?)" % near[0] if near else ""
            raise TypeError("%s() got an unexpected keyword argument %r%s; pass fields the library does "
                            "not know through extra_body" % (function, name, hint))


def prepare(function: str, messages: Iterable[Mapping[str, Any]], model: Optional[str],
            tools: Optional[Sequence[Any]], params: Dict[str, Any]) -> Tuple[bytes, Optional[bytes]]:
    """The request body and the options JSON (None when no option is set) of a
    call, from its keyword arguments `params` (the options are taken out)."""
    timeout, max_retries, fallbacks, stream_idle_timeout, stream_timeout, extra_headers, \
        extra_query, extra_body, metadata, x_libmodels, hedge_after = (params.pop(name, None) for name in OPTION_NAMES)
    _check_keywords(function, params)
    request: Dict[str, Any] = {"messages": messages if isinstance(messages, list) else list(messages)}
    if model is not None:
        request["model"] = model
    if tools is not None:
        request["tools"] = tools if isinstance(tools, list) else list(tools)
    request.update(params)
    if extra_body is not None:
        request.update(dict(extra_body))
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
    return _dumps(request), (_dumps(options) if options else None)
