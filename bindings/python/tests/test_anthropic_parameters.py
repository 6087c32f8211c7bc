# SPDX-License-Identifier: Apache-2.0
"""OpenAI parameters on their way to Anthropic: a JSON answer asked for with
response_format comes back as message content, and what Anthropic cannot
honour is refused before anything is sent."""

from __future__ import annotations

import json

import pytest

import libmodels
from lmtest import anthropic_config, user

SCHEMA = {"type": "json_schema", "json_schema": {
    "name": "city", "schema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}}


@pytest.fixture
def router(srv):
    with libmodels.Router(anthropic_config(srv)) as r:
        yield r


def test_a_json_schema_answer_is_the_message_content(router, srv):
    srv.script("claude-x", {"tool_calls": [{"id": "t1", "name": "city", "arguments": "{\"name\":\"Paris\"}"}]})
    reply = router.chat(messages=user("capital of France?"), response_format=SCHEMA)
    choice = reply["choices"][0]
    assert json.loads(choice["message"]["content"]) == {"name": "Paris"}
    assert not choice["message"].get("tool_calls")
    assert choice["finish_reason"] == "stop"
    sent = srv.requests()[0]["body"]
    assert sent["tool_choice"] == {"type": "tool", "name": "city"}
    assert [t["name"] for t in sent["tools"]] == ["city"]
    assert sent["tools"][0]["input_schema"]["required"] == ["name"]
    assert "response_format" not in sent


def test_a_streamed_json_answer_is_streamed_content(router, srv):
    srv.script("claude-x", {"tool_calls": [{"id": "t1", "name": "json_answer", "arguments": "{\"ok\":true}"}]})
    with router.stream(messages=user("hi"), response_format={"type": "json_object"}) as stream:
        chunks = list(stream)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert json.loads(text) == {"ok": True}
    assert all(not c["choices"][0]["delta"].get("tool_calls") for c in chunks if c["choices"])
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]] == ["stop"]


@pytest.mark.parametrize("params, field", [
    ({"n": 2}, "n"),
    ({"logprobs": True}, "logprobs"),
    ({"extra_body": {"top_k_sampling": 3}}, "top_k_sampling"),
    ({"response_format": {"type": "json_schema", "json_schema": {"name": "l", "schema": {"type": "array"}}}},
     "response_format"),
])
def test_what_anthropic_cannot_honour_is_refused(router, srv, params, field):
    with pytest.raises(libmodels.InvalidArgumentError, match='"%s' % field) as caught:
        router.chat(messages=user("hi"), **params)
    assert "anthropic" in str(caught.value).lower()
    assert srv.requests() == []


def test_quality_tuning_is_dropped_not_refused(router, srv):
    reply = router.chat(messages=user("hi"), seed=7, frequency_penalty=0.5, temperature=0.3)
    assert reply["choices"][0]["message"]["content"] == "echo: hi"
    sent = srv.requests()[0]["body"]
    assert "seed" not in sent and "frequency_penalty" not in sent
    assert sent["temperature"] == 0.3
