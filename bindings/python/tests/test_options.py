# SPDX-License-Identifier: Apache-2.0
"""Per-call options: the openai SDK's keywords become options, never body
fields; misspelled keywords are errors."""

from __future__ import annotations

import asyncio

import pytest

import libmodels
from lmtest import anthropic_config, openai_config, user


@pytest.fixture
def router(srv):
    with libmodels.Router(openai_config(srv, max_retries=2)) as r:
        yield r


def test_option_keywords_never_reach_the_body(router, srv):
    router.chat(messages=user("hi"), timeout=5, max_retries=0, extra_headers={"X-Trace": "1"},
                extra_body={"foo": 1}, extra_query={"api-version": "2024-10-21", "n": 2},
                metadata={"user_id": "u1"})
    request = srv.requests()[0]
    assert request["headers"]["x-trace"] == "1"
    assert request["body"]["foo"] == 1
    for option in ("timeout", "max_retries", "extra_headers", "extra_body", "extra_query", "metadata"):
        assert option not in request["body"]
    assert request["path"] == "/v1/chat/completions?api-version=2024-10-21&n=2"


def test_extra_query_is_percent_encoded(router, srv):
    router.chat(messages=user("hi"), extra_query={"q": "a b&c=d/é"})
    assert srv.requests()[0]["path"] == "/v1/chat/completions?q=a%20b%26c%3Dd%2F%C3%A9"


def test_extra_headers_replace_the_providers_own(router, srv):
    router.chat(messages=user("hi"), extra_headers={"authorization": "Bearer per-call-key"})
    headers = srv.requests()[0]["headers"]
    assert headers["authorization"] == "Bearer per-call-key"


def test_extra_headers_reach_anthropic_too(srv):
    with libmodels.Router(anthropic_config(srv)) as router:
        router.chat(messages=user("hi"), extra_headers={"anthropic-beta": "x-1"}, extra_query={"beta": "true"})
    request = srv.requests()[0]
    assert request["headers"]["anthropic-beta"] == "x-1"
    assert request["path"] == "/v1/messages?beta=true"


def test_max_retries_zero_makes_one_attempt(router, srv):
    srv.script("m1", {"status": 503}, {"status": 503}, {"status": 503})
    with pytest.raises(libmodels.ServerError):
        router.chat(messages=user("hi"), max_retries=0)
    assert len(srv.requests()) == 1


def test_router_max_retries_applies_without_the_option(router, srv):
    srv.script("m1", {"status": 503}, {"status": 503})
    reply = router.chat(messages=user("hi"))
    assert reply["choices"][0]["message"]["content"] == "echo: hi"
    assert len(srv.requests()) == 3


def test_a_per_call_timeout_shorter_than_the_routers_fires(router, srv):
    srv.script("m1", {"delay_ms": 3000})
    with pytest.raises(libmodels.ModelsTimeoutError):
        router.chat(messages=user("hi"), timeout=0.2, max_retries=0)


def test_fallbacks_replace_the_configured_ones(srv):
    with libmodels.Router(openai_config(srv, fallbacks=["local/m2"])) as router:
        srv.script("m1", {"status": 503})
        reply = router.chat(messages=user("hi"), fallbacks=["local/m3"])
        assert reply["model"] == "local/m3"
        srv.script("m1", {"status": 503})
        with pytest.raises(libmodels.ServerError):
            router.chat(messages=user("hi"), fallbacks=[])
    assert [r["body"]["model"] for r in srv.requests()] == ["m1", "m3", "m1"]


def test_options_apply_to_streams(router, srv):
    srv.script("m1", {"status": 503})
    with pytest.raises(libmodels.ServerError):
        router.stream(messages=user("hi"), max_retries=0, extra_headers={"X-Trace": "s"})
    with router.stream(messages=user("hi"), extra_headers={"X-Trace": "s"}) as stream:
        assert "".join(c["choices"][0]["delta"].get("content") or "" for c in stream if c["choices"]) == "echo: hi"
    assert [r["headers"]["x-trace"] for r in srv.requests()] == ["s", "s"]


def test_options_apply_to_async_calls(router, srv):
    async def run():
        await router.achat(messages=user("a"), extra_headers={"X-Trace": "achat"})
        async with router.astream(messages=user("b"), extra_headers={"X-Trace": "astream"}) as stream:
            async for _ in stream:
                pass
    asyncio.run(run())
    assert [r["headers"]["x-trace"] for r in srv.requests()] == ["achat", "astream"]


def test_a_misspelled_keyword_is_a_type_error_that_suggests(router, srv):
    with pytest.raises(TypeError, match=r"'temprature'.*did you mean 'temperature'"):
        router.chat(messages=user("hi"), temprature=0.2)
    with pytest.raises(TypeError, match="'max_retry'"):
        router.stream(messages=user("hi"), max_retry=1)
    assert srv.requests() == []


def test_unknown_fields_go_through_extra_body(router, srv):
    router.chat(messages=user("hi"), extra_body={"temprature": 0.2, "top_k": 3})
    body = srv.requests()[0]["body"]
    assert body["temprature"] == 0.2 and body["top_k"] == 3


@pytest.mark.parametrize("kwargs, error", [
    ({"timeout": "5"}, TypeError),
    ({"timeout": -1}, ValueError),
    ({"max_retries": 1.5}, TypeError),
    ({"fallbacks": "local/m2"}, TypeError),
])
def test_bad_option_values_are_refused_before_sending(router, srv, kwargs, error):
    with pytest.raises(error):
        router.chat(messages=user("hi"), **kwargs)
    assert srv.requests() == []


@pytest.mark.parametrize("kwargs, words", [
    ({"max_retries": 1000}, "max_retries"),
    ({"extra_headers": {"X-Bad": "a\r\nInjected: 1"}}, "extra_headers.X-Bad"),
    ({"extra_headers": {"Bad Name": "v"}}, "extra_headers.Bad"),
    ({"extra_headers": {"Content-Length": "1"}}, "cannot be replaced"),
    ({"fallbacks": ["no-slash model"]}, "fallbacks[0]"),
])
def test_options_the_library_refuses_name_the_key(router, srv, kwargs, words):
    with pytest.raises(libmodels.InvalidArgumentError) as caught:
        router.chat(messages=user("hi"), **kwargs)
    assert words in str(caught.value)
    assert "Injected" not in str(caught.value)
    assert srv.requests() == []


def test_extra_header_values_never_reach_an_error_message(router, srv):
    secret = "per-call-secret-value-1234"
    srv.script("m1", {"status": 401, "body": {"error": {"message": "bad key " + secret}}})
    with pytest.raises(libmodels.AuthenticationError) as caught:
        router.chat(messages=user("hi"), extra_headers={"X-Api-Token": secret})
    assert secret not in str(caught.value)
