# SPDX-License-Identifier: Apache-2.0
"""Router.chat and the router's management calls, against the loopback server."""

from __future__ import annotations

import json

import pytest

import libmodels
from lmtest import openai_config, user


def test_chat_returns_the_completion_as_a_dict(router, srv):
    reply = router.chat(messages=user("hello there"))
    assert reply["object"] == "chat.completion"
    assert reply["model"] == "local/m1"
    assert reply["choices"][0]["message"]["content"] == "echo: hello there"
    assert reply["usage"]["prompt_tokens"] == 2


def test_every_openai_field_passes_through(router, srv):
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    router.chat(messages=user("hi"), tools=tools, temperature=0.25, max_tokens=7,
                response_format={"type": "json_object"}, seed=42, extra_body={"vendor_extension": {"x": [1, 2]}})
    body = srv.requests()[0]["body"]
    assert body["model"] == "m1"
    assert body["tools"] == tools
    assert body["temperature"] == 0.25 and body["max_tokens"] == 7 and body["seed"] == 42
    assert body["response_format"] == {"type": "json_object"}
    assert body["vendor_extension"] == {"x": [1, 2]}
    assert srv.requests()[0]["headers"]["authorization"] == "Bearer k"


def test_tool_calls_come_back(router, srv):
    srv.script("m1", {"tool_calls": [{"id": "t1", "name": "lookup", "arguments": "{\"q\":1}"}]})
    reply = router.chat(messages=user("use the tool"))
    call = reply["choices"][0]["message"]["tool_calls"][0]
    assert call["id"] == "t1" and call["function"]["name"] == "lookup"
    assert json.loads(call["function"]["arguments"]) == {"q": 1}
    assert reply["choices"][0]["finish_reason"] == "tool_calls"


def test_model_argument_sends_to_that_model_alone(srv):
    with libmodels.Router(openai_config(srv, fallbacks=["local/m2"])) as router:
        reply = router.chat(messages=user("x"), model="local/other")
    assert reply["model"] == "local/other"
    assert [r["body"]["model"] for r in srv.requests()] == ["other"]


def test_config_may_be_json_text(srv):
    with libmodels.Router(json.dumps(openai_config(srv))) as router:
        assert router.chat(messages=user("a"))["choices"][0]["message"]["content"] == "echo: a"


def test_health_providers_and_set_models(router):
    assert router.providers == ["local"]
    assert router.health() == [{"model": "local/m1", "provider": "local", "available": True, "in_flight": 0,
                                "requests_this_minute": 0, "tokens_this_minute": 0}]
    router.chat(messages=user("a"))
    after = router.health()[0]
    assert after["requests_this_minute"] == 1 and after["in_flight"] == 0 and after["latency_ms"] >= 0
    router.set_models("local/a", ["nowhere/b"])
    health = router.health()
    assert [h["model"] for h in health] == ["local/a", "nowhere/b"]
    assert health[1]["available"] is False and health[1]["reason"] == "provider not registered"
    with pytest.raises(libmodels.InvalidArgumentError):
        router.set_models("", [])


def test_closed_router_refuses_calls(srv):
    router = libmodels.Router(openai_config(srv))
    router.close()
    router.close()  # twice is fine
    assert router.closed
    with pytest.raises(libmodels.InvalidArgumentError, match="closed"):
        router.chat(messages=user("x"))


def test_fallback_answers_when_primary_fails(srv):
    srv.script("m1", {"status": 500})
    with libmodels.Router(openai_config(srv, fallbacks=["local/m2"])) as router:
        reply = router.chat(messages=user("x"))
    assert reply["model"] == "local/m2"


def test_module_functions():
    assert libmodels.model_id("openrouter/meta/llama-3") == "meta/llama-3"
    assert libmodels.model_id("gpt-4.1") == "gpt-4.1"
    assert libmodels.default_base_url("openai") == "https://api.openai.com/v1"
    assert libmodels.default_base_url("groq") == "https://api.groq.com/openai/v1"
    assert libmodels.default_base_url("no-such-provider") is None
    assert libmodels.__version__ == libmodels.version()
    assert len(libmodels.__version__.split(".")) == 3


class EchoProvider:
    """A provider written in Python: the router routes and streams for it."""

    def __init__(self) -> None:
        self.failures = 0

    def chat(self, model_id, request):
        if self.failures:
            self.failures -= 1
            raise libmodels.APIError("busy", status_code=503)
        text = request["messages"][-1]["content"]
        return {"id": "p1", "object": "chat.completion", "model": model_id,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "py: " + text},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}}

    def stream(self, model_id, request):
        for word in ("a", "b", "c"):
            yield {"id": "p1", "object": "chat.completion.chunk", "model": model_id,
                   "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}]}
        yield {"id": "p1", "object": "chat.completion.chunk", "model": model_id, "choices": [],
               "usage": {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7}}


def test_python_provider_chat_retry_and_stream():
    provider = EchoProvider()
    with libmodels.Router({"primary": "py/echo", "max_retries": 1, "retry_base_ms": 1}) as router:
        router.add_provider("py", provider)
        assert "py" in router.providers
        provider.failures = 1  # a 503 is transient: the router retries it
        reply = router.chat(messages=user("hi"))
        assert reply["choices"][0]["message"]["content"] == "py: hi"
        assert reply["model"] == "py/echo"
        with router.stream(messages=user("hi")) as stream:
            assert len(list(stream)) == 4
            assert stream.text == "abc"
            assert stream.usage == (4, 3, 7)


def test_python_provider_errors_keep_their_class_status_and_retry_after():
    def failing(model_id, request):
        raise libmodels.APIError("slow down", status_code=429, retry_after=3)

    with libmodels.Router({"primary": "py/x", "max_retries": 0}) as router:
        router.add_provider("py", failing)
        with pytest.raises(libmodels.APIError) as info:
            router.chat(messages=user("x"))
    assert info.value.status_code == 429
    assert info.value.retry_after == 3.0
    assert info.value.is_transient
    assert "slow down" in info.value.message


@pytest.mark.parametrize("cls", [
    libmodels.InvalidArgumentError, libmodels.NoProviderError, libmodels.APIError,
    libmodels.TransportError, libmodels.ModelsTimeoutError, libmodels.ModelsCancelledError,
    libmodels.ProtocolError, libmodels.NoMemoryError])
def test_each_error_class_crosses_the_library_intact(cls):
    """A Python provider raising any error class: the router hands back the same class."""
    def failing(model_id, request):
        raise cls("from python")

    with libmodels.Router({"primary": "py/x", "max_retries": 0}) as router:
        router.add_provider("py", failing)
        with pytest.raises(cls, match="from python") as info:
            router.chat(messages=user("x"))
    assert info.value.code == cls.default_code
    assert info.value.code_name.startswith("MODELS_ERR_")


def test_provider_raising_a_plain_exception_fails_with_api_error():
    def broken(model_id, request):
        raise KeyError("oops")

    with libmodels.Router({"primary": "py/x", "max_retries": 0}) as router:
        router.add_provider("py", broken)
        with pytest.raises(libmodels.APIError, match="KeyError"):
            router.chat(messages=user("x"))


def test_a_typed_provider_speaks_its_type_under_its_own_name(srv):
    """A second Anthropic key under a name of its own, from a dict config."""
    config = {
        "primary": "anthropic/claude-a",
        "fallbacks": ["claude-backup/claude-b"],
        "max_retries": 0,
        "providers": {
            "anthropic": {"api_key": "key-one", "base_url": srv.base_url("/v1")},
            "claude-backup": {"type": "anthropic", "api_key": "key-two", "base_url": srv.base_url("/v1")},
        },
    }
    srv.script("claude-a", {"status": 503})
    with libmodels.Router(config) as router:
        assert "claude-backup" in router.providers
        reply = router.chat(messages=user("hi"))
        assert reply["choices"][0]["message"]["content"] == "echo: hi"
        sent = [(r["path"], r["headers"].get("x-api-key"), r["body"]["model"]) for r in srv.requests()]
        assert sent == [("/v1/messages", "key-one", "claude-a"), ("/v1/messages", "key-two", "claude-b")]

        srv.script("claude-b", {"status": 401, "body": {"type": "error", "error": {
            "type": "authentication_error", "message": "invalid x-api-key"}}})
        with pytest.raises(libmodels.APIError) as caught:
            router.chat(messages=user("hi"), model="claude-backup/claude-b")
        assert "claude-backup answered HTTP 401: authentication_error" in str(caught.value)


def test_an_unsupported_provider_type_is_a_config_error(srv):
    with pytest.raises(libmodels.InvalidArgumentError, match='must be one of .*"bedrock"'):
        libmodels.Router({"primary": "eu/gpt-4o", "providers": {"eu": {"type": "vertex"}}})
