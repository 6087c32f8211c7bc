# SPDX-License-Identifier: Apache-2.0
"""AWS Bedrock ("type": "bedrock") from Python: Converse and ConverseStream on
the loopback server, which checks every request's SigV4 signature with
botocore; tools, images, reasoning, usage, errors as the right exceptions,
credentials from the environment, nothing secret in an error, and
embeddings (Titan and Cohere through InvokeModel)."""

from __future__ import annotations

import asyncio
import base64
import struct

import pytest

import libmodels
from lmtest import user

MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"
TITAN, COHERE = "amazon.titan-embed-text-v2:0", "cohere.embed-english-v3"
KEY_ID, SECRET = "AKIDLOOPBACK", "loopback/secret+key"
TEMP_ID, TEMP_SECRET, TOKEN = "ASIALOOPBACK", "loopback/temporary+secret", "loopback-session-token"


def bedrock_router(srv, primary="aws/" + MODEL, provider=None, **extra):
    return libmodels.Router({
        "primary": primary, "max_retries": 0, "retry_base_ms": 1, "retry_max_ms": 5, **extra,
        "providers": {
            "aws": provider or {"type": "bedrock", "base_url": srv.url, "region": "us-east-1",
                                "aws_access_key_id": KEY_ID, "aws_secret_access_key": SECRET},
            "local": {"base_url": srv.base_url("/v1"), "api_key": "sk-test-local-0123456789"},
        }})


def run(coro, timeout=20.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_chat_is_signed_and_translated(srv):
    reply = bedrock_router(srv).chat(messages=[{"role": "system", "content": "be brief"}] + user("hello there"),
                                     max_tokens=50, temperature=0.5, stop=["END"])
    assert reply["model"] == "aws/" + MODEL
    assert reply["choices"][0]["message"]["content"] == "echo: hello there"
    assert reply["choices"][0]["finish_reason"] == "stop"
    assert reply["usage"]["prompt_tokens"] == 2 and reply["usage"]["completion_tokens"] == 3
    sent = srv.requests()[0]
    assert sent["path"] == "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
    assert sent["sigv4"]["ok"] and sent["sigv4"]["region"] == "us-east-1" and sent["sigv4"]["service"] == "bedrock"
    assert sent["body"] == {
        "messages": [{"role": "user", "content": [{"text": "hello there"}]}],
        "system": [{"text": "be brief"}],
        "inferenceConfig": {"maxTokens": 50, "temperature": 0.5, "stopSequences": ["END"]},
    }


def test_stream_with_reasoning_and_tools(srv):
    srv.script(MODEL, {"thinking": "let me see", "usage": {"outputTokens": 7},
                       "tool_calls": [{"id": "t1", "name": "weather", "arguments": '{"city":"Paris"}'}]})
    router = bedrock_router(srv)
    tools = [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}]
    thoughts = []
    with router.stream(messages=user("weather?"), tools=tools, tool_choice="required", on_thinking=thoughts.append) as stream:
        chunks = list(stream)
        assert stream.usage[:2] == (1, 7)
    assert "".join(thoughts) == "let me see"
    args = "".join(c["choices"][0]["delta"].get("tool_calls", [{}])[0].get("function", {}).get("arguments", "")
                   for c in chunks if c["choices"])
    assert args == '{"city":"Paris"}'
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    sent = srv.requests()[0]
    assert sent["path"].endswith("/converse-stream") and sent["sigv4"]["ok"]
    assert sent["body"]["toolConfig"] == {"tools": [{"toolSpec": {"name": "weather", "inputSchema": {"json": {"type": "object"}}}}],
                                          "toolChoice": {"any": {}}}


def test_images_go_as_bytes(srv):
    bedrock_router(srv).chat(messages=[{"role": "user", "content": [
        {"type": "text", "text": "what is it"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}])
    content = srv.requests()[0]["body"]["messages"][0]["content"]
    assert content[1] == {"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}}


def test_errors_have_their_kinds(srv):
    router = bedrock_router(srv)
    for status, error in [(429, libmodels.RateLimitError), (400, libmodels.BadRequestError), (503, libmodels.ServerError)]:
        srv.script(MODEL, {"status": status})
        with pytest.raises(error) as caught:
            router.chat(messages=user("hi"))
        assert SECRET not in str(caught.value) and KEY_ID not in str(caught.value)


def test_refused_parameters_name_the_provider(srv):
    with pytest.raises(libmodels.InvalidArgumentError, match='"n" cannot be sent to aws'):
        bedrock_router(srv).chat(messages=user("hi"), n=2)
    assert srv.requests() == []


def test_a_wrong_secret_is_refused_by_the_server(srv):
    router = bedrock_router(srv, provider={"type": "bedrock", "base_url": srv.url, "region": "us-east-1",
                                           "aws_access_key_id": KEY_ID, "aws_secret_access_key": "not-the-secret"})
    with pytest.raises(libmodels.AuthenticationError) as caught:
        router.chat(messages=user("hi"))
    assert "not-the-secret" not in str(caught.value)


def test_credentials_from_the_environment(srv, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", TEMP_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", TEMP_SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    router = bedrock_router(srv, provider={"type": "bedrock", "base_url": srv.url})
    assert router.chat(messages=user("hi"))["choices"][0]["message"]["content"] == "echo: hi"
    sent = srv.requests()[0]
    assert sent["headers"]["x-amz-security-token"] == TOKEN
    assert sent["sigv4"]["ok"] and sent["sigv4"]["region"] == "eu-west-3"


def test_throttled_stream_falls_back(srv):
    srv.script(MODEL, {"error_after": 0, "error": "throttlingException"})
    router = bedrock_router(srv, fallbacks=["local/m2"])
    with router.stream(messages=user("hi")) as stream:
        text = "".join(c["choices"][0]["delta"].get("content") or "" for c in stream if c["choices"])
        assert stream.model == "local/m2"
    assert text == "echo: hi"


def test_embeddings_of_a_chat_model_are_refused_clearly(srv):
    with pytest.raises(libmodels.InvalidArgumentError, match='provider "aws" has no embeddings API'):
        bedrock_router(srv).embed(input="hi")
    assert srv.requests() == []


def test_titan_and_cohere_embeddings(srv):
    openai_types = pytest.importorskip("openai.types", reason="the openai SDK is not installed")
    router = bedrock_router(srv, primary="aws/" + TITAN, fallbacks=[])
    resp = router.embed(input=["one", "two words"], dimensions=4)
    assert resp["model"] == "aws/" + TITAN and resp["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    assert [d["index"] for d in resp["data"]] == [0, 1] and len(resp["data"][1]["embedding"]) == 4
    parsed = openai_types.CreateEmbeddingResponse.model_validate(resp)
    assert parsed.data[1].embedding == resp["data"][1]["embedding"]
    sent = srv.requests()
    assert [r["path"] for r in sent] == ["/model/amazon.titan-embed-text-v2%3A0/invoke"] * 2
    assert all(r["sigv4"]["ok"] for r in sent)
    assert sent[1]["body"] == {"inputText": "two words", "dimensions": 4, "normalize": True}

    packed = router.embed(input="one", dimensions=4, encoding_format="base64")["data"][0]["embedding"]
    assert list(struct.unpack("<4f", base64.b64decode(packed))) == resp["data"][0]["embedding"]

    srv.reset()
    resp = run(router.aembed(input=["a", "b"], model="aws/" + COHERE,
                                 extra_body={"input_type": "search_query"}))
    assert openai_types.CreateEmbeddingResponse.model_validate(resp).model == "aws/" + COHERE
    assert len(resp["data"]) == 2
    assert srv.requests()[0]["body"] == {"texts": ["a", "b"], "input_type": "search_query"}

    with pytest.raises(libmodels.InvalidArgumentError, match="takes text inputs only, not tokens"):
        router.embed(input=[1, 2, 3])
