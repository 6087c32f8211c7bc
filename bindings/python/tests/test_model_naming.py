# SPDX-License-Identifier: Apache-2.0
"""The answer, every chunk and the stream name the model the same way: the
full routed name of the model that answered ("local/gpt-4o", a group's
deployment, the fallback that answered), whatever the provider put in its
chunks; and the openai SDK accepts every one of them."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

import libmodels
from lmtest import anthropic_config, openai_config, user


class BareProvider:
    """A provider written in Python whose chunks name no model, or a null one."""

    def chat(self, model_id: str, request: Dict[str, Any]) -> Dict[str, Any]:
        return {"id": "p1", "object": "chat.completion", "created": 1,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]}

    def stream(self, model_id: str, request: Dict[str, Any]) -> Any:
        yield {"id": "p1", "object": "chat.completion.chunk", "created": 1,
               "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}
        yield {"id": "p1", "object": "chat.completion.chunk", "created": 1, "model": None,
               "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}]}
        yield {"id": "p1", "object": "chat.completion.chunk", "created": 1, "model": model_id, "choices": [],
               "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def primary_fails(srv: Any, stream: bool) -> None:
    # The chat: a 500. The stream: an error event after the role chunk, which
    # was held back (the first word had not come) and is not the caller's.
    srv.script("m1", {"error_after": 1} if stream else {"status": 500})


# name: (config, script before each call, Python provider, the model that answers)
CASES: Dict[str, Tuple[Callable[[Any], Dict[str, Any]], Optional[Callable[[Any, bool], None]], bool, str]] = {
    "openai-compatible": (lambda srv: openai_config(srv, primary="local/gpt-4o"), None, False, "local/gpt-4o"),
    "anthropic": (anthropic_config, None, False, "anthropic/claude-x"),
    "fallback": (lambda srv: openai_config(srv, fallbacks=["local/m2"]), primary_fails, False, "local/m2"),
    "group": (lambda srv: openai_config(srv, primary="g", model_groups={"g": {"deployments": [{"model": "local/d1"}]}}),
              None, False, "local/d1"),
    "python provider": (lambda srv: {"primary": "py/bare"}, None, True, "py/bare"),
}


def answer_and_chunks(srv: Any, case: str) -> Tuple[Dict[str, Any], List[Dict[str, Any]], Optional[str], str]:
    config, script, python_provider, want = CASES[case]
    with libmodels.Router(config(srv)) as router:
        if python_provider:
            router.add_provider("py", BareProvider())
        if script:
            script(srv, False)
        reply = router.chat(messages=user("one two"))
        if script:
            script(srv, True)
        with router.stream(messages=user("one two"), stream_options={"include_usage": True}) as stream:
            chunks = list(stream)
    return dict(reply), [dict(c) for c in chunks], stream.model, want


@pytest.mark.parametrize("case", list(CASES))
def test_answer_chunks_and_stream_name_the_model_alike(srv, case):
    reply, chunks, stream_model, want = answer_and_chunks(srv, case)
    assert reply["model"] == want
    assert stream_model == want
    assert len(chunks) > 2 and "usage" in chunks[-1]
    assert [chunk["model"] for chunk in chunks] == [want] * len(chunks)


@pytest.mark.parametrize("case", list(CASES))
def test_the_openai_sdk_accepts_the_answer_and_every_chunk(srv, case):
    types = pytest.importorskip("openai.types.chat")
    reply, chunks, stream_model, want = answer_and_chunks(srv, case)
    assert types.ChatCompletion.model_validate(reply).model == want
    for chunk in chunks:
        assert types.ChatCompletionChunk.model_validate(chunk).model == stream_model == want
