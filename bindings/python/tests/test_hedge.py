# SPDX-License-Identifier: Apache-2.0
"""Hedged first tokens ("hedge_after_ms", the hedge_after keyword): a slow
first model is raced by the next one after the given time; the first answer
wins. The slow model answers after 2 s; hedged calls finish well before that."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time

import pytest

import libmodels
from lmtest import openai_config, user
from test_interrupt import CHILD, child_env

SLOW = {"delay_ms": 2000}


def hedged_config(srv, **extra):
    return openai_config(srv, fallbacks=["local/m2"], **extra)


def text_of(chunks):
    return "".join((c["choices"][0]["delta"].get("content") or "") for c in chunks if c.get("choices"))


def test_chat_is_hedged_by_the_config(srv):
    srv.script("m1", SLOW)
    with libmodels.Router(hedged_config(srv, hedge_after_ms=300)) as router:
        started = time.monotonic()
        reply = router.chat(messages=user("hi"))
        elapsed = time.monotonic() - started
    assert reply["model"] == "local/m2"
    assert reply["choices"][0]["message"]["content"] == "echo: hi"
    assert elapsed < 1.5
    assert [r["model"] for r in srv.requests()] == ["m1", "m2"]


def test_stream_is_hedged_by_the_keyword(srv):
    srv.script("m1", SLOW)
    with libmodels.Router(hedged_config(srv)) as router:
        started = time.monotonic()
        with router.stream(messages=user("hi"), hedge_after=0.3) as stream:
            chunks = list(stream)
            model = stream.model
        elapsed = time.monotonic() - started
    assert model == "local/m2"
    assert text_of(chunks) == "echo: hi"
    assert elapsed < 1.5


def test_astream_is_hedged_on_the_engine(srv):
    srv.script("m1", SLOW)

    async def main(router):
        chunks = []
        async with router.astream(messages=user("hi")) as stream:
            async for chunk in stream:
                chunks.append(chunk)
        return chunks

    with libmodels.Router(hedged_config(srv, hedge_after_ms=300)) as router:
        started = time.monotonic()
        chunks = asyncio.run(main(router))
        elapsed = time.monotonic() - started
    assert text_of(chunks) == "echo: hi"
    assert elapsed < 1.5


def test_a_fast_first_model_is_never_hedged(srv):
    with libmodels.Router(hedged_config(srv, hedge_after_ms=300)) as router:
        assert router.chat(messages=user("hi"))["model"] == "local/m1"
        assert text_of(list(router.stream(messages=user("hi")))) == "echo: hi"
    assert [r["model"] for r in srv.requests()] == ["m1", "m1"]


def test_hedge_after_zero_turns_it_off_and_bad_values_are_refused(srv):
    srv.script("m1", {"delay_ms": 300})
    with libmodels.Router(hedged_config(srv, hedge_after_ms=50)) as router:
        assert router.chat(messages=user("hi"), hedge_after=0)["model"] == "local/m1"
        with pytest.raises(TypeError):
            router.chat(messages=user("hi"), hedge_after="fast")
        with pytest.raises(ValueError):
            router.chat(messages=user("hi"), hedge_after=-1)
    with pytest.raises(libmodels.ModelsError, match="hedge_after_ms"):
        libmodels.Router(hedged_config(srv, hedge_after_ms="soon"))


def test_events_tell_the_hedge(srv):
    srv.script("m1", SLOW)
    events = []
    with libmodels.Router(hedged_config(srv, hedge_after_ms=300)) as router:
        router.on_event(events.append)
        router.chat(messages=user("hi"))
    kinds = [e["event"] for e in events]
    assert kinds.count("hedge.start") == 1 and kinds.count("hedge.end") == 1
    end = events[kinds.index("hedge.end")]
    assert end["libmodels.hedge.winner"] == "hedge"
    assert end["libmodels.hedge.other_model"] == "local/m1"


@pytest.mark.parametrize("mode", ["chat", "stream"])
def test_sigint_interrupts_a_hedged_call(srv, mode):
    srv.script("m1", {"hang": True})
    srv.script("m2", {"hang": True})
    config = hedged_config(srv, hedge_after_ms=100, timeout_ms=60000)
    proc = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(config), mode, "default"],
                            env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while srv.stats()["requests"] < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert srv.stats()["requests"] == 2, "the hedge never reached the server"
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        out, err = proc.communicate(timeout=5)
        elapsed = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert elapsed < 1.5, "took %.2fs to stop" % elapsed
    assert b"interrupted" in out and b"returned" not in out
    assert b"KeyboardInterrupt" in err
