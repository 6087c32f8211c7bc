# SPDX-License-Identifier: Apache-2.0
"""stream_recovery "resume" (issue 18): stream() and astream() give the whole
text once after a break past the first word, say that it was resumed, and
sum the usage; with "off" the break is an exception, as before."""

from __future__ import annotations

import asyncio

import pytest

import libmodels
from lmtest import anthropic_config, openai_config, user

TEXT = "alpha beta gamma delta epsilon"
MODES = ["reset", "truncate", "malformed", "error", "stall"]
# (config maker, the model id the server queues by, the events of a stream of TEXT)
WIRES = {
    "openai": (openai_config, "m1", 8),
    "anthropic": (anthropic_config, "claude-x", 11),
}


def router_for(srv, wire, recovery="resume"):
    make, _, _ = WIRES[wire]
    return libmodels.Router(make(srv, stream_recovery=recovery, max_retries=2, retry_base_ms=1, retry_max_ms=5,
                                 stream_idle_timeout_ms=150))


def script_break(srv, wire, k, mode):
    _, model, _ = WIRES[wire]
    srv.script(model, {"content": TEXT, "break_after": k, "break_mode": mode}, {"content": TEXT, "continues": True})


@pytest.mark.parametrize("wire", sorted(WIRES))
@pytest.mark.parametrize("mode", MODES)
def test_stream_resumes_after_every_event(srv, wire, mode):
    with router_for(srv, wire) as router:
        for k in range(WIRES[wire][2] + 1):
            srv.reset()
            script_break(srv, wire, k, mode)
            with router.stream(messages=user("hi")) as stream:
                chunks = list(stream)
            assert stream.text == TEXT, (k, chunks)
            assert all(c["object"] == "chat.completion.chunk" for c in chunks)
            assert stream.resumes == (1 if stream.resumed_parts else 0)


@pytest.mark.parametrize("wire", sorted(WIRES))
@pytest.mark.parametrize("mode", MODES)
def test_astream_resumes_after_every_event(srv, wire, mode):
    async def run(router):
        for k in range(WIRES[wire][2] + 1):
            srv.reset()
            script_break(srv, wire, k, mode)
            async with router.astream(messages=user("hi")) as stream:
                chunks = [c async for c in stream]
            assert stream.text == TEXT, (k, chunks)

    with router_for(srv, wire) as router:
        asyncio.run(run(router))


@pytest.mark.parametrize("wire", sorted(WIRES))
def test_a_resumed_stream_says_so_and_sums_the_usage(srv, wire):
    k = 3 if wire == "openai" else 5  # after "alpha beta "
    with router_for(srv, wire) as router:
        script_break(srv, wire, k, "reset")
        with router.stream(messages=user("hi")) as stream:
            chunks = list(stream)
        assert stream.text == TEXT
        assert stream.resumes == 1
        model = "local/m1" if wire == "openai" else "anthropic/claude-x"
        assert stream.resumed_parts == [
            {"model": model, "content_bytes": 11, "ended_by": "transport"},
            {"model": model, "content_bytes": len(TEXT) - 11},
        ]
        last = chunks[-1]
        assert last["choices"] == [] and last["x_libmodels"]["resumed"]["count"] == 1
        assert last["usage"]["prompt_tokens"] == stream.usage.prompt_tokens
        if wire == "anthropic":
            # The first attempt's message_start: 1 prompt word, 1 output token; the second:
            # "hi" + the 2 words delivered as prompt, the 3 words left as output.
            assert stream.usage == (1 + 3, 1 + 3, 8)

        async def run():
            srv.reset()
            script_break(srv, wire, k, "reset")
            async with router.astream(messages=user("hi")) as s:
                [c async for c in s]
            return s

        s = asyncio.run(run())
        assert s.text == TEXT and s.resumes == 1 and len(s.resumed_parts) == 2


def test_per_call_option_and_off(srv):
    with router_for(srv, "openai", recovery="off") as router:
        script_break(srv, "openai", 3, "reset")
        with pytest.raises(libmodels.ModelsError):
            with router.stream(messages=user("hi")) as stream:
                list(stream)
        assert stream.text == "alpha beta " and stream.resumes == 0
        srv.reset()
        script_break(srv, "openai", 3, "reset")
        with router.stream(messages=user("hi"), stream_recovery="resume") as stream:
            list(stream)
        assert stream.text == TEXT and stream.resumes == 1
        with pytest.raises(ValueError):
            router.stream(messages=user("hi"), stream_recovery="sometimes")
