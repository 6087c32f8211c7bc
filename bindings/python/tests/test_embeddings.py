# SPDX-License-Identifier: Apache-2.0
"""Router.embed() and Router.aembed(): the OpenAI embeddings answer, readable
as a dict and as the openai SDK's CreateEmbeddingResponse (checked with the SDK
when it is installed), routed with retries and fallbacks, keyword checks as
for chat, clear errors (Anthropic, bad input), and cancellation."""

from __future__ import annotations

import asyncio
import base64
import struct

import pytest

import libmodels
from lmtest import anthropic_config, openai_config


def run(coro, timeout=20.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_embed_one_and_batch(router, srv):
    resp = router.embed(input="hello big world", model="local/emb")
    assert isinstance(resp, dict) and isinstance(resp, libmodels.CreateEmbeddingResponse)
    assert resp.object == "list" and resp["object"] == "list"
    assert resp.model == "local/emb"
    assert len(resp.data) == 1
    assert resp.data[0].index == 0 and resp.data[0]["object"] == "embedding"
    assert len(resp.data[0].embedding) == 8
    assert resp.usage.prompt_tokens == 3 and resp.usage.total_tokens == 3
    sent = srv.requests()[0]
    assert sent["path"] == "/v1/embeddings"
    assert sent["body"] == {"input": "hello big world", "model": "emb"}

    batch = router.embed(input=["a b", "c", "hello big world"], model="local/emb", dimensions=4, user="u1",
                         extra_body={"x_vendor": 1})
    assert [d.index for d in batch.data] == [0, 1, 2]
    assert all(len(d.embedding) == 4 for d in batch.data)
    assert batch.usage.prompt_tokens == 6
    assert srv.requests()[1]["body"] == {"input": ["a b", "c", "hello big world"], "model": "emb",
                                          "dimensions": 4, "user": "u1", "x_vendor": 1}
    # Deterministic: the same input (and dimensions) gives the same vector.
    again = router.embed(input=("a b", "c"), model="local/emb", dimensions=4)
    assert again.data[0].embedding == batch.data[0].embedding
    # Tokens.
    tokens = router.embed(input=[[1, 2, 3], [4, 5]], model="local/emb")
    assert len(tokens.data) == 2 and tokens.usage.prompt_tokens == 5
    # A plain dict on demand.
    plain = resp.model_dump()
    assert type(plain) is dict and type(plain["data"][0]) is dict and plain["model"] == "local/emb"
    with pytest.raises(AttributeError):
        resp.choices


def test_base64_passes_through(router):
    resp = router.embed(input="x", model="local/emb", encoding_format="base64")
    text = resp.data[0].embedding
    assert isinstance(text, str)
    numbers = struct.unpack("<8f", base64.b64decode(text))
    floats = router.embed(input="x", model="local/emb").data[0].embedding
    assert list(numbers) == floats


def test_openai_sdk_accepts_the_answer(router):
    openai_types = pytest.importorskip("openai.types", reason="the openai SDK is not installed")
    resp = router.embed(input=["one", "two"], model="local/emb")
    parsed = openai_types.CreateEmbeddingResponse.model_validate(resp)
    assert parsed.model == "local/emb"
    assert parsed.data[1].embedding == resp.data[1].embedding
    assert parsed.usage.prompt_tokens == 2


def test_retry_and_fallback(srv):
    with libmodels.Router(openai_config(srv, primary="local/e1", fallbacks=["local/e2"], max_retries=1)) as router:
        srv.script("e1", {"status": 503})
        assert router.embed(input="a").model == "local/e1"
        srv.script("e1", {"status": 500}, {"status": 500})
        assert router.embed(input="a").model == "local/e2"
        srv.script("e1", {"status": 500}, {"status": 500})
        srv.script("e2", {"status": 500}, {"status": 500})
        with pytest.raises(libmodels.AllModelsFailedError):
            router.embed(input="a")
        # The call's own fallbacks, after the model it names.
        srv.script("x", {"status": 502}, {"status": 502})
        assert router.embed(input="a", model="local/x", fallbacks=["local/e2"]).model == "local/e2"


def test_errors(router, srv):
    with pytest.raises(libmodels.InvalidArgumentError, match=r"\"input\" must not be an empty array"):
        router.embed(input=[])
    with pytest.raises(libmodels.InvalidArgumentError, match=r"\"input\[1\]\" must be a string like"):
        router.embed(input=["a", 1])
    with pytest.raises(libmodels.InvalidArgumentError, match="dimensions"):
        router.embed(input="a", dimensions=0)
    with pytest.raises(TypeError, match="dimensons"):
        router.embed(input="a", dimensons=3)
    with pytest.raises(TypeError, match="messages"):
        router.embed(input="a", messages=[])
    with pytest.raises(TypeError, match="stream_timeout"):
        router.embed(input="a", stream_timeout=1)
    with pytest.raises(TypeError, match="bytes"):
        router.embed(input=b"a")
    assert srv.requests() == []
    srv.script("m1", {"status": 400})
    with pytest.raises(libmodels.BadRequestError):
        router.embed(input="a")


def test_anthropic_has_no_embeddings(srv):
    with libmodels.Router(anthropic_config(srv)) as router:
        with pytest.raises(libmodels.InvalidArgumentError, match="provider \"anthropic\" has no embeddings API"):
            router.embed(input="a")
        with pytest.raises(libmodels.InvalidArgumentError, match="has no embeddings API"):
            run(router.aembed(input="a"))
    assert srv.requests() == []


def test_aembed(router, srv):
    async def main():
        srv.script("emb", {"status": 503})
        results = await asyncio.gather(*(router.aembed(input="w%d" % i, model="local/emb", max_retries=1)
                                         for i in range(10)))
        return results

    results = run(main())
    assert [r.model for r in results] == ["local/emb"] * 10
    assert all(len(r.data) == 1 and r.usage.prompt_tokens == 1 for r in results)
    assert results[3].data[0].embedding == router.embed(input="w3", model="local/emb").data[0].embedding


def test_aembed_cancel(router, srv):
    srv.script("emb", {"hang": True})

    async def main():
        task = asyncio.ensure_future(router.aembed(input="a", model="local/emb"))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(main())


def test_embed_timeout_option(router, srv):
    srv.script("emb", {"hang": True})
    with pytest.raises(libmodels.ModelsTimeoutError):
        router.embed(input="a", model="local/emb", timeout=0.2)


def test_python_provider_has_no_embeddings(router, srv):
    calls = []
    router.add_provider("py", lambda model_id, request: calls.append(model_id) or {"choices": []})
    with pytest.raises(libmodels.InvalidArgumentError, match="provider \"py\" has no embeddings API"):
        router.embed(input="a", model="py/m")
    with pytest.raises(libmodels.InvalidArgumentError, match="provider \"py\" has no embeddings API"):
        run(router.aembed(input="a", model="py/m"))
    assert calls == []
