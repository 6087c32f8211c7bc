# SPDX-License-Identifier: Apache-2.0
"""Results are plain dicts at run time, and have at least the keys their
TypedDicts (libmodels._types) require, from OpenAI and from Anthropic alike."""

from __future__ import annotations

import pytest

import libmodels
from lmtest import anthropic_config, openai_config, user

TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


def required(typed_dict):
    return set(typed_dict.__required_keys__)


@pytest.mark.parametrize("config", [openai_config, anthropic_config])
def test_reply_and_chunks_are_plain_dicts_with_the_typed_keys(srv, config):
    with libmodels.Router(config(srv)) as router:
        reply = router.chat(messages=user("one two"))
        with router.stream(messages=user("one two"), stream_options={"include_usage": True}) as stream:
            chunks = list(stream)
    assert type(reply) is dict and all(type(c) is dict for c in chunks)
    assert required(libmodels.ChatCompletion) <= set(reply)
    choice = reply["choices"][0]
    assert required(libmodels.Choice) <= set(choice)
    assert required(libmodels.ChatCompletionMessage) <= set(choice["message"])
    assert set(reply["usage"]) >= required(libmodels.CompletionUsage)
    for chunk in chunks:
        assert required(libmodels.ChatCompletionChunk) <= set(chunk)
        for chunk_choice in chunk["choices"]:
            assert required(libmodels.ChunkChoice) <= set(chunk_choice)


def test_tool_call_has_the_typed_keys(router, srv):
    srv.script("m1", {"tool_calls": [{"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}]})
    reply = router.chat(messages=user("weather?"), tools=[TOOL])
    call = reply["choices"][0]["message"]["tool_calls"][0]
    assert required(libmodels.ChatCompletionMessageToolCall) <= set(call)
    assert required(libmodels.Function) <= set(call["function"])
