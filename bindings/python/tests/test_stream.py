# SPDX-License-Identifier: Apache-2.0
"""Router.stream: chunks, text, usage, model, thinking, cancel, errors."""

from __future__ import annotations

import threading
import time

import pytest

import libmodels
from lmtest import anthropic_config, openai_config, user


def wait_for(predicate, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def test_stream_yields_chunk_dicts_text_usage_and_model(router, srv):
    with router.stream(messages=user("one two three"), stream_options={"include_usage": True}) as stream:
        assert stream.model == "local/m1"
        chunks = list(stream)
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert stream.text == "echo: one two three"
    assert stream.usage == (3, 4, 7)
    assert stream.usage.prompt_tokens == 3 and stream.usage.completion_tokens == 4
    assert srv.requests()[0]["body"]["stream"] is True


def test_stream_usage_has_the_names_of_a_replys_usage(router, srv):
    """stream.usage uses the OpenAI names reply["usage"] has, with the same values."""
    reply = router.chat(messages=user("one two three"))
    with router.stream(messages=user("one two three"), stream_options={"include_usage": True}) as stream:
        chunks = list(stream)
    assert stream.usage._asdict() == reply["usage"]
    assert stream.usage.total_tokens == 7
    assert repr(stream.usage) == "Usage(prompt_tokens=3, completion_tokens=4, total_tokens=7)"
    # The chunk that reported the usage says the same.
    reported = [c["usage"] for c in chunks if c.get("usage")]
    assert reported and reported[-1] == stream.usage._asdict()


def test_stream_usage_old_names_are_deprecated_aliases(router, srv):
    with router.stream(messages=user("one two three"), stream_options={"include_usage": True}) as stream:
        list(stream)
    with pytest.warns(DeprecationWarning, match="prompt_tokens"):
        assert stream.usage.input_tokens == 3
    with pytest.warns(DeprecationWarning, match="completion_tokens"):
        assert stream.usage.output_tokens == 4


def test_usage_before_any_report_is_zero():
    assert libmodels.Usage() == (0, 0, 0)


def test_text_grows_as_chunks_are_read(router, srv):
    srv.script("m1", {"content": "alpha beta gamma", "chunks": 3})
    with router.stream(messages=user("x")) as stream:
        seen = [stream.text for _ in stream]
    assert seen[-1] == "alpha beta gamma"
    assert any(0 < len(t) < len(seen[-1]) for t in seen)


def test_many_chunks(router, srv):
    srv.script("m1", {"chunks": 5000})
    with router.stream(messages=user("x")) as stream:
        count = sum(1 for _ in stream)
    assert count >= 5000
    assert stream.text.split() == ["w%d" % i for i in range(5000)]


def test_anthropic_thinking_reaches_on_thinking(srv):
    srv.script("claude-x", {"thinking": "let me think hard", "content": "the answer"})
    thoughts = []
    with libmodels.Router(anthropic_config(srv)) as router:
        with router.stream(messages=user("q"), on_thinking=thoughts.append) as stream:
            for _ in stream:
                pass
    assert "".join(thoughts) == "let me think hard"
    assert stream.text == "the answer"
    assert stream.model == "anthropic/claude-x"
    assert stream.usage.completion_tokens == 2


def test_open_errors_raise_from_stream(router, srv):
    srv.script("m1", {"status": 401})
    with pytest.raises(libmodels.APIError) as info:
        router.stream(messages=user("x"))
    assert info.value.status_code == 401


def test_error_event_mid_stream_raises_after_the_chunks_before_it(router, srv):
    srv.script("m1", {"chunks": 10, "error_after": 3, "error": {"message": "boom"}})
    got = []
    with pytest.raises(libmodels.ModelsError, match="boom"):
        with router.stream(messages=user("x")) as stream:
            for chunk in stream:
                got.append(chunk)
    assert len(got) == 3


def test_truncated_stream_is_protocol_error(router, srv):
    srv.script("m1", {"omit_terminator": True})
    with pytest.raises(libmodels.ProtocolError):
        with router.stream(messages=user("x")) as stream:
            list(stream)


def test_cancel_from_another_thread_ends_iteration_and_the_transfer(router, srv):
    srv.script("m1", {"chunks": 10, "stall_after": 2})
    with router.stream(messages=user("x")) as stream:
        first = next(stream)
        assert first["object"] == "chat.completion.chunk"
        assert wait_for(lambda: srv.stats()["open"] >= 2)
        open_while_stalled = srv.stats()["open"]
        timer = threading.Timer(0.1, stream.cancel)
        timer.start()
        started = time.monotonic()
        rest = list(stream)  # blocks on the stall until cancelled, then ends quietly
        elapsed = time.monotonic() - started
        timer.join()
    assert elapsed < 2.0
    assert stream.cancelled
    assert len(rest) <= 1
    assert wait_for(lambda: srv.stats()["open"] < open_while_stalled)


def test_closing_an_unfinished_stream_closes_its_connection(router, srv):
    srv.script("m1", {"chunks": 10, "stall_after": 2})
    stream = router.stream(messages=user("x"))
    next(stream)
    assert wait_for(lambda: srv.stats()["open"] >= 2)
    open_while_stalled = srv.stats()["open"]
    started = time.monotonic()
    stream.close()
    assert time.monotonic() - started < 2.0
    assert wait_for(lambda: srv.stats()["open"] < open_while_stalled)
    assert list(stream) == []


def test_router_close_waits_for_open_streams(srv):
    router = libmodels.Router(openai_config(srv))
    stream = router.stream(messages=user("a b c"))
    router.close()  # the stream still uses the router: freed when it ends
    assert "".join((c["choices"][0]["delta"].get("content") or "") for c in stream
                   if c["choices"]) == "echo: a b c"
    stream.close()


def test_close_from_another_thread_while_one_reads(router, srv):
    srv.script("m1", {"chunks": 10, "stall_after": 2})
    stream = router.stream(messages=user("x"))
    read, errors = [], []

    def read_all():
        try:
            read.extend(stream)
        except BaseException as exc:
            errors.append(exc)

    reader = threading.Thread(target=read_all)
    reader.start()
    assert wait_for(lambda: len(read) >= 2)
    time.sleep(0.05)  # the reader now waits on the stall, inside the library
    started = time.monotonic()
    stream.close()
    reader.join(5)
    assert not reader.is_alive()
    assert time.monotonic() - started < 2.0
    assert errors == []  # the iteration just ends


def test_a_dropped_stream_closes_its_connection(router, srv):
    srv.script("m1", {"chunks": 10, "stall_after": 2})
    stream = router.stream(messages=user("x"))
    next(stream)
    assert wait_for(lambda: srv.stats()["open"] >= 2)
    open_while_stalled = srv.stats()["open"]
    del stream  # never closed: the finalizer closes it
    assert wait_for(lambda: srv.stats()["open"] < open_while_stalled)
