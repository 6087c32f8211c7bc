# SPDX-License-Identifier: Apache-2.0
"""asyncio: achat and astream never block the loop; cancelling a task cancels the transfer."""

from __future__ import annotations

import asyncio
import time

import pytest

import libmodels
from lmtest import anthropic_config, openai_config, user


async def wait_for(predicate, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.01)
    return predicate()


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 20))


def test_achat(router, srv):
    reply = run(router.achat(messages=user("async hello")))
    assert reply["choices"][0]["message"]["content"] == "echo: async hello"


def test_achat_does_not_block_the_event_loop(router, srv):
    srv.script("*", *[{"delay_ms": 300}] * 4)

    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.ensure_future(ticker())
        started = time.monotonic()
        replies = await asyncio.gather(*[router.achat(messages=user(str(i))) for i in range(4)])
        elapsed = time.monotonic() - started
        task.cancel()
        return replies, elapsed, ticks

    replies, elapsed, ticks = run(main())
    assert [r["choices"][0]["message"]["content"] for r in replies] == ["echo: %d" % i for i in range(4)]
    assert elapsed < 1.2  # concurrent, not 4 x 300 ms
    assert ticks >= 10    # the loop kept running meanwhile


def test_achat_errors_are_exceptions(router, srv):
    srv.script("m1", {"status": 404})
    with pytest.raises(libmodels.APIError) as info:
        run(router.achat(messages=user("x")))
    assert info.value.status_code == 404


def test_cancelling_achat_cancels_the_transfer(router, srv):
    srv.script("m1", {"hang": True})

    async def main():
        task = asyncio.ensure_future(router.achat(messages=user("x")))
        assert await wait_for(lambda: srv.stats()["requests"] == 1)
        open_while_hung = srv.stats()["open"]
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - started < 0.5
        assert await wait_for(lambda: srv.stats()["open"] < open_while_hung)

    run(main())


def test_astream(router, srv):
    async def main():
        chunks = []
        async with router.astream(messages=user("one two"), stream_options={"include_usage": True}) as stream:
            async for chunk in stream:
                chunks.append(chunk)
        return chunks, stream

    chunks, stream = run(main())
    assert chunks and all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert stream.text == "echo: one two"
    assert stream.usage == (2, 3, 5)
    assert stream.model == "local/m1"


def test_astream_without_context_manager_and_async_thinking(srv):
    srv.script("claude-x", {"thinking": "hmm", "content": "yes"})
    thoughts = []

    async def on_thinking(text):
        await asyncio.sleep(0)
        thoughts.append(text)

    async def main():
        with libmodels.Router(anthropic_config(srv)) as router:
            stream = router.astream(messages=user("q"), on_thinking=on_thinking)
            return [c async for c in stream], stream

    _, stream = run(main())
    assert "".join(thoughts) == "hmm"
    assert stream.text == "yes"


def test_astream_open_error(router, srv):
    srv.script("m1", {"status": 500})

    async def main():
        async with router.astream(messages=user("x")):
            pass

    with pytest.raises(libmodels.APIError):
        run(main())


def test_cancelling_a_task_mid_stream_cancels_the_transfer(router, srv):
    srv.script("m1", {"chunks": 10, "stall_after": 3})

    async def main():
        received = []

        async def consume():
            async for chunk in router.astream(messages=user("x")):
                received.append(chunk)

        task = asyncio.ensure_future(consume())
        assert await wait_for(lambda: len(received) >= 2)
        assert await wait_for(lambda: srv.stats()["open"] >= 2)
        open_while_stalled = srv.stats()["open"]
        await asyncio.sleep(0.05)  # the consumer is now waiting on the stall
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - started < 0.5
        # The library aborted the transfer: the server sees the connection close.
        assert await wait_for(lambda: srv.stats()["open"] < open_while_stalled)
        return received

    received = run(main())
    assert 2 <= len(received) <= 3


def test_many_concurrent_astreams(srv):
    async def one(router, i):
        async with router.astream(messages=user("n%d" % i)) as stream:
            async for _ in stream:
                pass
        return stream.text

    async def main():
        with libmodels.Router(openai_config(srv)) as router:
            return await asyncio.gather(*[one(router, i) for i in range(20)])

    assert run(main()) == ["echo: n%d" % i for i in range(20)]
