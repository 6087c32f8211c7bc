# SPDX-License-Identifier: Apache-2.0
"""achat and astream on the engine: no thread per call, cancellation reaches the
transfers, the same errors, options and events as the blocking calls, and any
number of event loops."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Any, Dict, List

import pytest

import libmodels
from lmtest import anthropic_config, openai_config, user


def os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


async def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.01)
    return predicate()


def run(coro, timeout=60):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_500_concurrent_astreams_use_a_handful_of_threads(srv):
    n = 500
    srv.script("*", *[{"chunks": 4, "event_delay_ms": 100}] * n)
    before = os_threads()
    peak = [before]

    async def one(router, i):
        async with router.astream(messages=user("n%d" % i)) as stream:
            async for _ in stream:
                pass
        return stream.text

    async def sample(done):
        while not done.is_set():
            peak[0] = max(peak[0], os_threads())
            await asyncio.sleep(0.02)

    async def main():
        done = asyncio.Event()
        sampler = asyncio.ensure_future(sample(done))
        with libmodels.Router(openai_config(srv, timeout_ms=30000)) as router:
            texts = await asyncio.gather(*[one(router, i) for i in range(n)])
        done.set()
        await sampler
        return texts

    texts = run(main())
    assert len(texts) == n and all(texts)
    assert srv.stats()["requests"] == n
    assert peak[0] - before <= 3, "%d OS threads during %d astreams (%d before)" % (peak[0], n, before)


def test_cancelling_tasks_mid_stream_closes_their_connections(router, srv):
    n = 20
    srv.script("m1", *[{"chunks": 10, "stall_after": 2}] * n)

    async def main():
        received = [0] * n

        async def consume(i):
            async for _ in router.astream(messages=user("x")):
                received[i] += 1

        tasks = [asyncio.ensure_future(consume(i)) for i in range(n)]
        assert await wait_for(lambda: all(r >= 1 for r in received))
        open_while_stalled = srv.stats()["open"]  # with idle kept-alive connections of earlier tests
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, asyncio.CancelledError) for r in results)
        # The library aborted every transfer: the server sees the connections close.
        assert await wait_for(lambda: srv.stats()["open"] <= open_while_stalled - n), srv.stats()

    run(main())


def test_closing_an_astream_early_closes_its_connection(router, srv):
    srv.script("m1", {"chunks": 10, "stall_after": 2})

    async def main():
        async with router.astream(messages=user("x")) as stream:
            first = await stream.__anext__()
            assert first["object"] == "chat.completion.chunk"
            open_while_stalled = srv.stats()["open"]
        assert await wait_for(lambda: srv.stats()["open"] < open_while_stalled)
        assert [c async for c in stream] == []

    run(main())


@pytest.mark.parametrize("step,cls,status", [
    ({"status": 404}, libmodels.NotFoundError, 404),
    ({"status": 429}, libmodels.RateLimitError, 429),
    ({"status": 401}, libmodels.AuthenticationError, 401),
    ({"status": 500}, libmodels.ServerError, 500),
    ({"status": 400}, libmodels.BadRequestError, 400),
    ({"delay_ms": 2000}, libmodels.ModelsTimeoutError, None),
])
def test_errors_are_the_exceptions_of_the_blocking_calls(srv, step, cls, status):
    config = openai_config(srv, timeout_ms=300)
    with libmodels.Router(config) as router:
        srv.script("m1", step)
        with pytest.raises(libmodels.ModelsError) as blocking:
            router.chat(messages=user("x"))
        srv.script("m1", step)
        with pytest.raises(libmodels.ModelsError) as achat:
            run(router.achat(messages=user("x")))
        srv.script("m1", step)

        async def astream():
            async for _ in router.astream(messages=user("x")):
                pass

        with pytest.raises(libmodels.ModelsError) as astreamed:
            run(astream())
    for info in (blocking, achat, astreamed):
        assert type(info.value) is cls, info.value
        assert info.value.status_code == status
    assert type(achat.value) is type(blocking.value)  # noqa: E721


def test_options_reach_the_server(router, srv):
    async def main():
        reply = await router.achat(messages=user("a"), extra_headers={"X-Trace": "t1"},
                                   extra_query={"q": "1"}, temperature=0.5, x_libmodels=True)
        async with router.astream(messages=user("b"), extra_headers={"X-Trace": "t2"},
                                  stream_options={"include_usage": True}) as stream:
            chunks = [c async for c in stream]
        return reply, stream, chunks

    reply, stream, chunks = run(main())
    requests = srv.requests()
    assert [r["headers"].get("x-trace") for r in requests] == ["t1", "t2"]
    assert "q=1" in requests[0]["path"]
    assert requests[0]["body"]["temperature"] == 0.5
    assert reply["x_libmodels"]["model"] == "local/m1"
    assert reply["model"] == "local/m1"
    assert stream.model == "local/m1" and all(c["model"] == "local/m1" for c in chunks)
    assert stream.usage == (1, 2, 3)  # "b" in, "echo: b" out


def test_events_are_delivered_on_the_loop_thread(srv):
    events: List[Dict[str, Any]] = []
    threads = set()

    def on_event(event):
        events.append(event)
        threads.add(threading.get_ident())

    async def main():
        with libmodels.Router(openai_config(srv), on_event=on_event) as router:
            await router.achat(messages=user("a"), metadata={"m": 1})
            async for _ in router.astream(messages=user("b"), metadata={"m": 2}):
                pass
        return threading.get_ident()

    loop_thread = run(main())
    kinds = [e["event"] for e in events]
    assert kinds.count("call.start") == 2 and kinds.count("call.end") == 2
    assert "first_token" in kinds
    assert {e["libmodels.metadata"]["m"] for e in events} == {1, 2}
    assert threads == {loop_thread}


def test_async_event_handler_and_thinking(srv):
    srv.script("claude-x", {"thinking": "hmm", "content": "yes"})
    seen: List[str] = []
    thoughts: List[str] = []

    async def on_event(event):
        seen.append(event["event"])

    async def main():
        with libmodels.Router(anthropic_config(srv)) as router:
            router.on_event(on_event)
            stream = router.astream(messages=user("q"), on_thinking=thoughts.append)
            text = "".join([(c["choices"][0]["delta"].get("content") or "") async for c in stream if c["choices"]])
            await wait_for(lambda: "call.end" in seen)
            return text, stream

    text, stream = run(main())
    assert text == "yes" and "".join(thoughts) == "hmm"
    assert "call.end" in seen
    assert stream.usage.completion_tokens > 0


def test_two_asyncio_runs_and_two_threads(router, srv):
    assert run(router.achat(messages=user("1")))["choices"][0]["message"]["content"] == "echo: 1"
    assert run(router.achat(messages=user("2")))["choices"][0]["message"]["content"] == "echo: 2"
    results: Dict[int, Any] = {}

    def in_thread(i):
        async def main():
            return await asyncio.gather(*[router.achat(messages=user("%d-%d" % (i, k))) for k in range(5)])
        try:
            results[i] = [r["choices"][0]["message"]["content"] for r in run(main())]
        except BaseException as exc:  # noqa: BLE001
            results[i] = exc

    threads = [threading.Thread(target=in_thread, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == {i: ["echo: %d-%d" % (i, k) for k in range(5)] for i in range(2)}


def test_astream_created_outside_the_loop_starts_on_first_await(router, srv):
    stream = router.astream(messages=user("later"))

    async def main():
        return [c async for c in stream]

    assert run(main())
    assert stream.text == "echo: later"


def test_closing_the_router_with_calls_in_flight_lets_them_finish(srv):
    srv.script("m1", {"delay_ms": 200})

    async def main():
        router = libmodels.Router(openai_config(srv))
        task = asyncio.ensure_future(router.achat(messages=user("x")))
        await asyncio.sleep(0.05)
        router.close()
        reply = await task
        with pytest.raises(libmodels.InvalidArgumentError):
            await router.achat(messages=user("y"))
        with pytest.raises(libmodels.InvalidArgumentError):
            router.astream(messages=user("y"))
        return reply

    assert run(main())["choices"][0]["message"]["content"] == "echo: x"


class GatedProvider:
    """A Python provider whose calls for model "held" wait for `gate`; streams
    send two chunks, then wait for `gate` before each further one."""

    def __init__(self):
        self.gate = threading.Event()
        self.threads = set()
        self.closed = threading.Event()

    def chat(self, model_id, request):
        self.threads.add(threading.get_ident())
        if model_id == "held":
            self.gate.wait(10)
        if model_id == "busy":
            raise libmodels.APIError("busy", status_code=503)
        text = "py " + request["messages"][0]["content"]
        return {"object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop",
                "message": {"role": "assistant", "content": text}}]}

    def stream(self, model_id, request):
        self.threads.add(threading.get_ident())
        try:
            for i in range(100):
                if i >= 2:
                    self.gate.wait(10)
                yield {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "s%d " % i}}]}
        finally:
            self.closed.set()


def test_python_providers_run_on_the_engine_without_blocking_the_loop(srv):
    provider = GatedProvider()

    async def main():
        config = openai_config(srv, primary="py/m")
        with libmodels.Router(config) as router:
            router.add_provider("py", provider)
            reply = await router.achat(messages=user("hi"))
            held = asyncio.ensure_future(router.achat(messages=user("x"), model="py/held"))
            # The provider holds a worker thread, not the loop nor the engine.
            other = await router.achat(messages=user("meanwhile"), model="local/m1")
            assert not held.done()
            provider.gate.set()
            late = await held
            fell_back = await router.achat(messages=user("fb"), model="py/busy", fallbacks=["local/m1"])
            provider.gate.clear()
            chunks = []

            async def consume():
                async for chunk in router.astream(messages=user("s")):
                    chunks.append(chunk)

            task = asyncio.ensure_future(consume())
            assert await wait_for(lambda: len(chunks) >= 2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            provider.gate.set()  # the stream's next chunk finds it cancelled: closed
            assert await wait_for(provider.closed.is_set)
            return reply, other, late, fell_back, chunks, threading.get_ident()

    reply, other, late, fell_back, chunks, loop_thread = run(main())
    assert reply["choices"][0]["message"]["content"] == "py hi"
    assert reply["model"] == "py/m"
    assert other["choices"][0]["message"]["content"] == "echo: meanwhile"
    assert late["choices"][0]["message"]["content"] == "py x"
    assert fell_back["model"] == "local/m1"
    assert [c["choices"][0]["delta"]["content"] for c in chunks] == ["s0 ", "s1 "]
    assert all(c["model"] == "py/m" for c in chunks)
    assert loop_thread not in provider.threads
