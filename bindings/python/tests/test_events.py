# SPDX-License-Identifier: Apache-2.0
"""Router events (on_event): a call with a retry, a cooldown and a fallback
reports its events in order with OpenTelemetry GenAI names, its metadata and
its cost; a stream reports its first word before its first chunk; an async
handler runs on its event loop; a handler that raises is logged, not raised;
x_libmodels in the answer."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any, Dict, List

import pytest

import libmodels
from lmtest import openai_config, user
from testserver import TestServer

PRICES = {"local/m2": {"input_per_million": 2.5, "output_per_million": 10, "cached_input_per_million": 1.25}}
CACHED_USAGE = {"prompt_tokens": 1000, "completion_tokens": 500, "prompt_tokens_details": {"cached_tokens": 400}}


def kinds(events: List[Dict[str, Any]]) -> List[str]:
    return [e["event"] for e in events]


def test_a_call_with_a_retry_and_a_fallback(srv: TestServer) -> None:
    events: List[Dict[str, Any]] = []
    config = openai_config(srv, fallbacks=["local/m2"], max_retries=1, cooldown={"base_ms": 60000}, prices=PRICES)
    with libmodels.Router(config, on_event=events.append) as router:
        srv.script("m1", {"status": 503}, {"status": 503})
        srv.script("m2", {"usage": CACHED_USAGE})
        reply = router.chat(user("hi"), metadata={"trace": "t-1", "n": [1, 2]}, x_libmodels=True)

    assert kinds(events) == ["call.start", "attempt.start", "attempt.end", "retry", "attempt.start", "attempt.end",
                             "cooldown.start", "fallback", "attempt.start", "attempt.end", "call.end"]
    assert len({e["libmodels.call_id"] for e in events}) == 1
    assert all(e["libmodels.metadata"] == {"trace": "t-1", "n": [1, 2]} for e in events)
    assert all(e["gen_ai.operation.name"] == "chat" and e["libmodels.stream"] is False for e in events)
    times = [e["libmodels.time_unix_nano"] for e in events]
    assert times == sorted(times)

    start, failed, retry = events[1], events[2], events[3]
    assert start["gen_ai.request.model"] == "local/m1" and start["gen_ai.provider.name"] == "local"
    assert (start["libmodels.attempt"], start["libmodels.retry"]) == (1, 0)
    assert failed["libmodels.status"] == "error" and failed["error.type"] == "server"
    assert failed["http.response.status_code"] == 503
    assert 0 <= retry["libmodels.delay_ms"] <= 10
    assert (events[4]["libmodels.attempt"], events[4]["libmodels.retry"]) == (2, 1)
    assert events[6]["libmodels.cooldown_ms"] == 60000
    fallback = events[7]
    assert (fallback["libmodels.fallback.from"], fallback["libmodels.fallback.to"]) == ("local/m1", "local/m2")
    assert fallback["error.type"] == "server"

    end = events[-1]
    assert end["libmodels.status"] == "ok" and "error.type" not in end
    assert end["gen_ai.request.model"] == "local/m1" and end["gen_ai.response.model"] == "local/m2"
    assert end["libmodels.attempts"] == 3
    assert (end["gen_ai.usage.input_tokens"], end["gen_ai.usage.output_tokens"]) == (1000, 500)
    assert end["gen_ai.usage.cache_read.input_tokens"] == 400
    # 600 uncached × 2.5 + 400 cached × 1.25 + 500 output × 10 dollars per million tokens.
    assert end["libmodels.cost_usd"] == 0.007
    assert events[-2]["libmodels.cost_usd"] == 0.007
    assert reply["x_libmodels"]["model"] == "local/m2"
    assert reply["x_libmodels"]["attempts"] == 3
    assert reply["x_libmodels"]["cost_usd"] == 0.007
    assert reply["x_libmodels"]["latency_ms"] == end["libmodels.latency_ms"]


def test_a_failed_call_names_its_error(srv: TestServer) -> None:
    events: List[Dict[str, Any]] = []
    with libmodels.Router(openai_config(srv), on_event=events.append) as router:
        srv.script("m1", {"status": 401})
        with pytest.raises(libmodels.AuthenticationError):
            router.chat(user("hi"))
    assert kinds(events) == ["call.start", "attempt.start", "attempt.end", "call.end"]
    assert events[-1]["libmodels.status"] == "error"
    assert events[-1]["error.type"] == "auth"
    assert events[-1]["http.response.status_code"] == 401
    assert "libmodels.metadata" not in events[-1]


def test_a_stream_reports_its_first_token_then_its_usage(srv: TestServer) -> None:
    log: List[Any] = []
    with libmodels.Router(openai_config(srv), on_event=log.append) as router:
        with router.stream(user("one two three"), stream_options={"include_usage": True}) as stream:
            for _ in stream:
                log.append("chunk")
    names = [e if isinstance(e, str) else e["event"] for e in log]
    assert names[:3] == ["call.start", "attempt.start", "first_token"]
    assert names[3] == "chunk"
    # Its end is reported once the caller has had the last chunk.
    assert names[-2:] == ["attempt.end", "call.end"]
    events = [e for e in log if not isinstance(e, str)]
    assert kinds(events) == ["call.start", "attempt.start", "first_token", "attempt.end", "call.end"]
    first, end = events[2], events[-1]
    assert first["libmodels.stream"] is True and first["libmodels.time_to_first_token_ms"] >= 0
    assert end["gen_ai.usage.output_tokens"] > 0
    assert 0 <= end["libmodels.time_to_first_token_ms"] <= end["libmodels.latency_ms"]
    assert "libmodels.cost_usd" not in end  # no price for local/m1


def test_removing_the_handler_stops_the_events(srv: TestServer) -> None:
    events: List[Dict[str, Any]] = []
    with libmodels.Router(openai_config(srv)) as router:
        router.on_event(events.append)
        router.chat(user("hi"))
        count = len(events)
        router.on_event(None)
        reply = router.chat(user("hi"))
    assert count == 4 and len(events) == count
    assert "x_libmodels" not in reply


def test_a_handler_that_raises_is_logged(srv: TestServer, caplog: pytest.LogCaptureFixture) -> None:
    def broken(event: Dict[str, Any]) -> None:
        raise ValueError("handler bug")

    with caplog.at_level(logging.ERROR, logger="libmodels"):
        with libmodels.Router(openai_config(srv), on_event=broken) as router:
            assert router.chat(user("hi"))["choices"]
    assert any("on_event handler raised" in r.getMessage() and r.exc_info for r in caplog.records)


def test_an_async_handler_runs_on_its_loop(srv: TestServer) -> None:
    seen: List[Dict[str, Any]] = []
    threads = set()

    async def main() -> None:
        done = asyncio.Event()

        async def handler(event: Dict[str, Any]) -> None:
            threads.add(threading.get_ident())
            seen.append(event)
            if event["event"] == "call.end":
                done.set()

        with libmodels.Router(openai_config(srv), on_event=handler) as router:
            await router.achat(user("hi"), metadata={"user": "u1"})
            await asyncio.wait_for(done.wait(), 10)
        assert threads == {threading.get_ident()}

    asyncio.run(main())
    assert kinds(seen) == ["call.start", "attempt.start", "attempt.end", "call.end"]
    assert seen[0]["libmodels.metadata"] == {"user": "u1"}


def test_an_async_handler_needs_a_running_loop(srv: TestServer) -> None:
    async def handler(event: Dict[str, Any]) -> None:
        pass

    with libmodels.Router(openai_config(srv)) as router:
        with pytest.raises(RuntimeError, match="event loop"):
            router.on_event(handler)


def test_x_libmodels_is_off_unless_asked(srv: TestServer) -> None:
    with libmodels.Router(openai_config(srv, x_libmodels=True)) as router:
        assert router.chat(user("hi"))["x_libmodels"]["model"] == "local/m1"
        assert "x_libmodels" not in router.chat(user("hi"), x_libmodels=False)
    with pytest.raises(TypeError, match="x_libmodels"):
        with libmodels.Router(openai_config(srv)) as router:
            router.chat(user("hi"), x_libmodels="yes")


def test_bad_prices_are_refused(srv: TestServer) -> None:
    with pytest.raises(libmodels.InvalidArgumentError, match=r"prices\.local/m1\.input_per_million"):
        libmodels.Router(openai_config(srv, prices={"local/m1": {"input_per_million": -1, "output_per_million": 1}}))
    with pytest.raises(libmodels.InvalidArgumentError, match="did you mean \"output_per_million\""):
        libmodels.Router(openai_config(srv, prices={"local/m1": {"input_per_million": 1, "ouput_per_million": 1}}))


def test_a_handler_that_removes_itself_while_threads_call(srv: TestServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    seen: List[str] = []
    lock = threading.Lock()
    with libmodels.Router(openai_config(srv)) as router:
        def once(event: Dict[str, Any]) -> None:
            with lock:
                seen.append(event["event"])
            router.on_event(None)

        router.on_event(once)
        with ThreadPoolExecutor(4) as pool:
            replies = list(pool.map(lambda _: router.chat(user("hi")), range(16)))
        assert all(r["choices"] for r in replies)
        count = len(seen)
        router.chat(user("hi"))
    # Each thread inside the handler at the moment of removal may have seen one event.
    assert 1 <= count <= 4 and len(seen) == count
