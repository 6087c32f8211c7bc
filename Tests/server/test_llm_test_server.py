# SPDX-License-Identifier: Apache-2.0
"""Tests of the loopback LLM test server itself: python3 -m pytest -q Tests/server"""

import http.client
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from testserver import SERVER_SCRIPT, TestServer  # noqa: E402

OPENAI_PATH = "/v1/chat/completions"
ANTHROPIC_PATH = "/anthropic/v1/messages"


@pytest.fixture(scope="module")
def srv():
    with TestServer() as server:
        yield server


@pytest.fixture(autouse=True)
def fresh(srv):
    srv.reset()
    yield


# ---- helpers ------------------------------------------------------------------

def chat(model="m1", text="hello world", stream=False, **extra):
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    if stream:
        body["stream"] = True
    body.update(extra)
    return body


def call(srv, path, body=None, method="POST", headers=None, conn=None, timeout=10):
    """One request over http.client; returns (status, headers dict, body bytes)."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", srv.port, timeout=timeout)
    data = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
    hdrs = {"Content-Type": "application/json"}
    hdrs.update(headers or {})
    conn.request(method, path, body=data, headers=hdrs)
    resp = conn.getresponse()
    payload = resp.read()
    if own:
        conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload


def call_json(srv, path, body=None, **kw):
    status, headers, payload = call(srv, path, body, **kw)
    return status, headers, json.loads(payload)


def sse_events(payload):
    """[(event name or None, data string)] of an SSE body."""
    events = []
    for block in payload.decode().split("\n\n"):
        if not block.strip():
            continue
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        events.append((name, "\n".join(data)))
    return events


def openai_chunks(payload):
    return [json.loads(d) for _, d in sse_events(payload) if d != "[DONE]"]


def openai_text(chunks, key="content"):
    return "".join(c["choices"][0]["delta"].get(key, "") for c in chunks if c["choices"])


def anthropic_events(payload):
    out = []
    for name, data in sse_events(payload):
        obj = json.loads(data)
        assert obj["type"] == name
        out.append(obj)
    return out


def raw_send(srv, path, body, extra_headers=b"", timeout=5):
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=timeout)
    data = json.dumps(body).encode() if not isinstance(body, bytes) else body
    sock.sendall(b"POST %s HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n%s\r\n" % (path.encode(), len(data), extra_headers) + data)
    return sock


class RawReader:
    """Reads one HTTP response off a raw socket, keeping the chunk framing."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError()
        self.buf += data

    def line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def head(self):
        status = int(self.line().split()[1])
        headers = {}
        while True:
            line = self.line()
            if not line:
                return status, headers
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()

    def chunks(self):
        """Yields chunk payloads; returns at the terminating 0-size chunk."""
        while True:
            size = int(self.line(), 16)
            if size == 0:
                assert self.line() == b""
                return
            data = self.exact(size)
            assert self.exact(2) == b"\r\n"
            yield data


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


# ---- default behaviour ------------------------------------------------------------

def test_openai_default_response(srv):
    status, headers, body = call_json(srv, OPENAI_PATH, chat(text="hello big world"))
    assert status == 200 and headers["content-type"] == "application/json"
    assert int(headers["content-length"]) > 0
    assert body["id"].startswith("chatcmpl-") and body["object"] == "chat.completion"
    assert body["model"] == "m1" and isinstance(body["created"], int)
    choice = body["choices"][0]
    assert choice == {"index": 0, "finish_reason": "stop",
                      "message": {"role": "assistant", "content": "echo: hello big world"}}
    assert body["usage"] == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}


def test_openai_default_uses_last_user_message_and_text_parts(srv):
    req = {"model": "m1", "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": [{"type": "text", "text": "part one"},
                                     {"type": "image_url", "image_url": {"url": "x"}},
                                     {"type": "text", "text": "part two"}]}]}
    _, _, body = call_json(srv, OPENAI_PATH, req)
    assert body["choices"][0]["message"]["content"] == "echo: part one part two"
    assert body["usage"]["prompt_tokens"] == 2 + 1 + 1 + 4


def test_openai_default_stream(srv):
    status, headers, payload = call(srv, OPENAI_PATH, chat(stream=True))
    assert status == 200
    assert headers["content-type"] == "text/event-stream"
    assert headers["transfer-encoding"] == "chunked"
    assert payload.endswith(b"data: [DONE]\n\n")
    chunks = openai_chunks(payload)
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    pieces = [c["choices"][0]["delta"]["content"] for c in chunks[1:-1]]
    assert pieces == ["echo: ", "hello ", "world"]
    assert chunks[-1]["choices"][0] == {"index": 0, "delta": {}, "finish_reason": "stop"}
    assert not any("usage" in c for c in chunks)


def test_openai_stream_include_usage(srv):
    _, _, payload = call(srv, OPENAI_PATH, chat(stream=True, stream_options={"include_usage": True}))
    chunks = openai_chunks(payload)
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"


def test_anthropic_default_response(srv):
    req = {"model": "claude-x", "max_tokens": 10, "messages": [
        {"role": "user", "content": "earlier"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "result"},
                                     {"type": "text", "text": "and now"}]}]}
    status, _, body = call_json(srv, ANTHROPIC_PATH, req)
    assert status == 200
    assert body["id"].startswith("msg_")
    assert body["type"] == "message" and body["role"] == "assistant" and body["model"] == "claude-x"
    assert body["content"] == [{"type": "text", "text": "echo: and now"}]
    assert body["stop_reason"] == "end_turn" and body["stop_sequence"] is None
    assert body["usage"] == {"input_tokens": 4, "output_tokens": 3}


def test_anthropic_default_stream(srv):
    status, headers, payload = call(srv, ANTHROPIC_PATH, chat("claude-x", stream=True))
    assert status == 200 and headers["content-type"] == "text/event-stream"
    events = anthropic_events(payload)
    assert [e["type"] for e in events] == [
        "message_start", "content_block_start", "ping", "content_block_delta",
        "content_block_delta", "content_block_delta", "content_block_stop", "message_delta",
        "message_stop"]
    start = events[0]["message"]
    assert start["model"] == "claude-x" and start["usage"] == {"input_tokens": 2, "output_tokens": 1}
    assert events[1] == {"type": "content_block_start", "index": 0,
                         "content_block": {"type": "text", "text": ""}}
    assert "".join(e["delta"]["text"] for e in events[3:6]) == "echo: hello world"
    assert all(e["delta"]["type"] == "text_delta" and e["index"] == 0 for e in events[3:6])
    assert events[7] == {"type": "message_delta", "usage": {"output_tokens": 3},
                         "delta": {"stop_reason": "end_turn", "stop_sequence": None}}


@pytest.mark.parametrize("prefix", ["", "/v1", "/anthropic/v1", "/a/v1", "/deep/er/prefix"])
def test_any_path_prefix(srv, prefix):
    _, _, body = call_json(srv, prefix + "/chat/completions", chat())
    assert body["object"] == "chat.completion"
    _, _, body = call_json(srv, prefix + "/messages", chat())
    assert body["type"] == "message"


def test_unknown_path_is_404_and_recorded(srv):
    status, _, body = call_json(srv, "/v1/completions", {"model": "m1"})
    assert status == 404 and "error" in body
    assert srv.requests()[0]["path"] == "/v1/completions"


def test_copilot_token_default_and_scripted(srv):
    now = time.time()
    _, _, first = call_json(srv, "/copilot_internal/v2/token", method="GET")
    _, _, second = call_json(srv, "/api/copilot_internal/v2/token", method="GET")
    assert first["token"] == "cop-tok-1" and second["token"] == "cop-tok-2"
    assert abs(first["expires_at"] - (now + 1800)) < 5
    assert first["endpoints"] == {"api": srv.url}
    srv.script("token", {"status": 401})
    srv.script("*", {"status": 500})  # chat scripts never reach the token exchange
    status, _, _ = call(srv, "/copilot_internal/v2/token", method="GET")
    assert status == 401
    _, _, third = call_json(srv, "/copilot_internal/v2/token", method="GET")
    assert third["token"] == "cop-tok-3"
    srv.reset()
    _, _, again = call_json(srv, "/copilot_internal/v2/token", method="GET")
    assert again["token"] == "cop-tok-1"


# ---- scripts and recording -----------------------------------------------------------

def test_queue_selection_is_fifo_per_model_then_star(srv):
    assert srv.script("m1", {"content": "a"}, {"content": "b"}) == 2
    srv.script("*", {"content": "star"})
    srv.script("m2", {"content": "m2"})

    def text(model):
        _, _, body = call_json(srv, OPENAI_PATH, chat(model))
        return body["choices"][0]["message"]["content"]

    assert text("m1") == "a"
    assert text("m3") == "star"            # no m3 queue: "*"
    assert text("m1") == "b"
    assert text("m1") == "echo: hello world"  # both queues empty: default
    assert text("m2") == "m2"
    assert srv.stats()["pending"] == {}


def test_pending_counts_in_stats(srv):
    srv.script("m1", {}, {})
    assert srv.stats()["pending"] == {"m1": 2}


def test_requests_are_recorded_with_headers_and_body(srv):
    call(srv, "/anthropic/v1/messages", chat("claude-x"),
         headers={"x-api-key": "sk-1", "anthropic-version": "2023-06-01",
                  "User-Agent": "libmodels/test", "Editor-Version": "vscode/1"})
    call(srv, OPENAI_PATH, "not json {", headers={"Authorization": "Bearer k"})
    srv.stats()
    reqs = srv.requests()
    assert len(reqs) == 2  # control requests are not recorded
    first, second = reqs
    assert first["method"] == "POST" and first["path"] == "/anthropic/v1/messages"
    assert first["model"] == "claude-x" and first["body"] == chat("claude-x")
    h = first["headers"]
    assert h["x-api-key"] == "sk-1" and h["anthropic-version"] == "2023-06-01"
    assert h["user-agent"] == "libmodels/test" and h["editor-version"] == "vscode/1"
    assert h["content-type"] == "application/json" and "content-length" in h
    assert second["body"] == "not json {" and second["model"] is None
    assert second["headers"]["authorization"] == "Bearer k"
    assert first["time"] <= second["time"] <= time.time()


def test_script_validation(srv):
    for bad in ({"model": "m1", "steps": [{"statuz": 500}]},
                {"model": "m1", "steps": [{"status": "500"}]},
                {"model": "m1", "steps": [{"tool_calls": [{"id": "x"}]}]},
                {"steps": []}):
        status, _, body = call_json(srv, "/_control/script", bad)
        assert status == 400 and "error" in body
    assert srv.stats()["pending"] == {}


def test_thirty_sequential_requests_use_one_connection(srv):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    srv.script("m1", {"sse": ["data: {}\n\n", "data: [DONE]\n\n"]}, {"status": 429})
    for i in range(30):
        path = ANTHROPIC_PATH if i % 3 == 0 else OPENAI_PATH
        status, _, _ = call(srv, path, chat(stream=i % 2 == 0), conn=conn)
        assert status in (200, 429)
    conn.close()
    stats = srv.stats()
    assert stats["requests"] == 30 and stats["connections"] == 1
    assert len({r["connection"] for r in srv.requests()}) == 1


def test_connections_count_new_connections(srv):
    for _ in range(3):
        call(srv, OPENAI_PATH, chat())
    assert srv.stats()["connections"] == 3


# ---- failures: status, headers, bodies ------------------------------------------------

def test_status_with_retry_after_openai_error_shape(srv):
    srv.script("m1", {"status": 429, "headers": {"Retry-After": "2", "X-Extra": "1"}})
    status, headers, body = call_json(srv, OPENAI_PATH, chat(stream=True))
    assert status == 429
    assert headers["retry-after"] == "2" and headers["x-extra"] == "1"
    assert headers["content-type"] == "application/json"
    assert body["error"]["message"] == "scripted error 429"
    assert set(body["error"]) == {"message", "type", "code"}


@pytest.mark.parametrize("status,kind", [(529, "overloaded_error"), (401, "authentication_error"),
                                         (500, "api_error"), (400, "invalid_request_error")])
def test_status_anthropic_error_shape(srv, status, kind):
    srv.script("*", {"status": status})
    got, _, body = call_json(srv, ANTHROPIC_PATH, chat())
    assert got == status
    assert body == {"type": "error", "error": {"type": kind, "message": "scripted error %d" % status}}


def test_scripted_body_json_and_malformed(srv):
    srv.script("m1", {"status": 400, "body": {"error": {"message": "thinking is bad"}}},
               {"body": '{"id": "x", "choices": [tru'})
    status, _, body = call_json(srv, OPENAI_PATH, chat())
    assert status == 400 and body == {"error": {"message": "thinking is bad"}}
    status, _, raw = call(srv, OPENAI_PATH, chat())
    assert status == 200 and raw == b'{"id": "x", "choices": [tru'


@pytest.mark.parametrize("path", [OPENAI_PATH, ANTHROPIC_PATH])
@pytest.mark.parametrize("size", [5, 300, 11 * 1024 * 1024])
def test_body_size(srv, path, size):
    srv.script("m1", {"body_size": size})
    status, headers, raw = call(srv, path, chat())
    assert status == 200
    assert int(headers["content-length"]) == size == len(raw)
    body = json.loads(raw)
    if size >= 300:
        assert "padding" in body and ("choices" in body or "content" in body)


def test_delay_ms(srv):
    srv.script("m1", {"delay_ms": 300})
    start = time.monotonic()
    status, _, _ = call(srv, OPENAI_PATH, chat())
    assert status == 200 and time.monotonic() - start >= 0.29


def open_count_drops_to(srv, n):
    # the control request itself holds one connection while stats are taken
    return wait_for(lambda: srv.stats()["open"] <= n + 1)


def test_hang_until_client_goes_away(srv):
    srv.script("m1", {"hang": True})
    baseline = srv.stats()["open"] - 1
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=0.3)
    with pytest.raises(socket.timeout):
        call(srv, OPENAI_PATH, chat(), conn=conn)
    assert srv.stats()["open"] >= baseline + 2  # the hung connection is still open
    conn.close()
    assert open_count_drops_to(srv, baseline)   # ... and its handler ended
    assert call(srv, OPENAI_PATH, chat())[0] == 200


def test_reset_sends_tcp_reset(srv):
    srv.script("m1", {"reset": True})
    sock = raw_send(srv, OPENAI_PATH, chat())
    with pytest.raises(ConnectionResetError):
        while sock.recv(1024):
            pass
    sock.close()
    assert srv.requests()[0]["model"] == "m1"


def test_close_sends_connection_close(srv):
    srv.script("m1", {"close": True})
    sock = raw_send(srv, OPENAI_PATH, chat())
    reader = RawReader(sock)
    status, headers = reader.head()
    assert status == 200 and headers["connection"] == "close"
    json.loads(reader.exact(int(headers["content-length"])))
    assert sock.recv(10) == b""  # server closed
    sock.close()


# ---- content generators --------------------------------------------------------------

TOOLS = [{"id": "call_1", "name": "get_weather", "arguments": '{"city":"Paris"}'},
         {"id": "call_2", "name": "noop", "arguments": ""}]


def test_openai_content_and_tool_calls(srv):
    srv.script("m1", {"content": "let me look", "tool_calls": TOOLS}, {"tool_calls": TOOLS[:1]})
    _, _, body = call_json(srv, OPENAI_PATH, chat())
    msg = body["choices"][0]["message"]
    assert msg["content"] == "let me look" and body["choices"][0]["finish_reason"] == "tool_calls"
    assert msg["tool_calls"][0] == {"id": "call_1", "type": "function",
                                    "function": {"name": "get_weather",
                                                 "arguments": '{"city":"Paris"}'}}
    assert msg["tool_calls"][1]["function"] == {"name": "noop", "arguments": ""}
    _, _, body = call_json(srv, OPENAI_PATH, chat())
    assert body["choices"][0]["message"]["content"] is None


def test_openai_stream_tool_calls(srv):
    srv.script("m1", {"tool_calls": TOOLS})
    chunks = openai_chunks(call(srv, OPENAI_PATH, chat(stream=True))[2])
    calls = {}
    arg_pieces = {}
    for c in chunks[1:]:
        for tc in c["choices"][0]["delta"].get("tool_calls", []):
            entry = calls.setdefault(tc["index"], {"arguments": ""})
            if "id" in tc:
                assert tc["type"] == "function"
                entry.update(id=tc["id"], name=tc["function"]["name"])
            else:
                arg_pieces[tc["index"]] = arg_pieces.get(tc["index"], 0) + 1
            entry["arguments"] += tc["function"].get("arguments", "")
    assert calls == {0: {"id": "call_1", "name": "get_weather", "arguments": '{"city":"Paris"}'},
                     1: {"id": "call_2", "name": "noop", "arguments": ""}}
    assert arg_pieces[0] >= 2
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert openai_text(chunks) == ""


def test_anthropic_tool_use(srv):
    srv.script("m1", {"content": "looking", "tool_calls": TOOLS[:1]}, {"tool_calls": TOOLS[:1]})
    _, _, body = call_json(srv, ANTHROPIC_PATH, chat())
    assert body["content"] == [
        {"type": "text", "text": "looking"},
        {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}]
    assert body["stop_reason"] == "tool_use"
    events = anthropic_events(call(srv, ANTHROPIC_PATH, chat(stream=True))[2])
    start = [e for e in events if e["type"] == "content_block_start"]
    assert start == [{"type": "content_block_start", "index": 0, "content_block": {
        "type": "tool_use", "id": "call_1", "name": "get_weather", "input": {}}}]
    deltas = [e["delta"] for e in events if e["type"] == "content_block_delta"]
    assert len(deltas) >= 2 and all(d["type"] == "input_json_delta" for d in deltas)
    assert "".join(d["partial_json"] for d in deltas) == '{"city":"Paris"}'
    assert events[-2]["delta"]["stop_reason"] == "tool_use"


def test_anthropic_thinking(srv):
    srv.script("m1", {"thinking": "hmm let me think", "content": "answer"},
               {"thinking": "hmm let me think", "content": "answer"})
    _, _, body = call_json(srv, ANTHROPIC_PATH, chat())
    assert body["content"] == [
        {"type": "thinking", "thinking": "hmm let me think", "signature": "sig"},
        {"type": "text", "text": "answer"}]
    events = anthropic_events(call(srv, ANTHROPIC_PATH, chat(stream=True))[2])
    starts = [(e["index"], e["content_block"]["type"]) for e in events
              if e["type"] == "content_block_start"]
    assert starts == [(0, "thinking"), (1, "text")]
    deltas = [e for e in events if e["type"] == "content_block_delta"]
    thinking = "".join(e["delta"].get("thinking", "") for e in deltas if e["index"] == 0)
    assert thinking == "hmm let me think"
    assert {"type": "signature_delta", "signature": "sig"} in [e["delta"] for e in deltas]
    assert "".join(e["delta"]["text"] for e in deltas if e["index"] == 1) == "answer"
    assert [e["index"] for e in events if e["type"] == "content_block_stop"] == [0, 1]


def test_openai_reasoning_content(srv):
    srv.script("m1", {"thinking": "deep thought", "content": "42"},
               {"thinking": "deep thought", "content": "42"})
    _, _, body = call_json(srv, OPENAI_PATH, chat())
    assert body["choices"][0]["message"]["reasoning_content"] == "deep thought"
    chunks = openai_chunks(call(srv, OPENAI_PATH, chat(stream=True))[2])
    assert openai_text(chunks, "reasoning_content") == "deep thought"
    assert openai_text(chunks) == "42"


def test_usage_and_stop_overrides(srv):
    srv.script("m1", {"usage": {"prompt_tokens": 11, "completion_tokens": 22},
                      "finish_reason": "length"},
               {"usage": {"input_tokens": 5, "output_tokens": 6}, "stop_reason": "max_tokens"},
               {"usage": {"input_tokens": 5, "output_tokens": 6}, "stop_reason": "max_tokens"})
    _, _, body = call_json(srv, OPENAI_PATH, chat())
    assert body["usage"] == {"prompt_tokens": 11, "completion_tokens": 22, "total_tokens": 33}
    assert body["choices"][0]["finish_reason"] == "length"
    _, _, body = call_json(srv, ANTHROPIC_PATH, chat())
    assert body["usage"] == {"input_tokens": 5, "output_tokens": 6}
    assert body["stop_reason"] == "max_tokens"
    events = anthropic_events(call(srv, ANTHROPIC_PATH, chat(stream=True))[2])
    assert events[0]["message"]["usage"]["input_tokens"] == 5
    assert events[-2]["usage"] == {"output_tokens": 6}
    assert events[-2]["delta"]["stop_reason"] == "max_tokens"


def test_long_stream_chunks(srv):
    n = 100000
    srv.script("m1", {"chunks": n}, {"chunks": 4, "content": "abcdefgh"})
    start = time.monotonic()
    _, _, payload = call(srv, OPENAI_PATH, chat(stream=True, stream_options={"include_usage": True}))
    assert time.monotonic() - start < 10
    chunks = openai_chunks(payload)
    assert len(chunks) == n + 3
    text = openai_text(chunks)
    assert text.startswith("w0 w1 w2 ") and text.endswith(" w%d" % (n - 1))
    assert len(text.split()) == n and chunks[-1]["usage"]["completion_tokens"] == n
    events = anthropic_events(call(srv, ANTHROPIC_PATH, chat(stream=True))[2])
    assert [e["delta"]["text"] for e in events if e["type"] == "content_block_delta"] == \
        ["ab", "cd", "ef", "gh"]


# ---- stream failures ------------------------------------------------------------------

def test_sse_items_are_sent_exactly(srv):
    items = [": a comment\n\n", "data: {\"a\":1}\r\n\r\n",
             {"event": "message_start", "data": {"type": "message_start"}},
             {"event": "raw", "data": "not json"},
             {"choices": []},
             "data: {broken\n\n"]
    srv.script("m1", {"sse": items})
    status, headers, payload = call(srv, OPENAI_PATH, chat(stream=True))
    assert status == 200 and headers["content-type"] == "text/event-stream"
    assert payload == (b': a comment\n\ndata: {"a":1}\r\n\r\n'
                       b'event: message_start\ndata: {"type":"message_start"}\n\n'
                       b'event: raw\ndata: not json\n\n'
                       b'data: {"choices":[]}\n\n'
                       b'data: {broken\n\n')


def test_omit_terminator_keeps_connection_usable(srv):
    srv.script("m1", {"omit_terminator": True}, {"omit_terminator": True})
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    payload = call(srv, OPENAI_PATH, chat(stream=True), conn=conn)[2]
    assert b"[DONE]" not in payload
    assert openai_chunks(payload)[-1]["choices"][0]["finish_reason"] == "stop"
    events = anthropic_events(call(srv, ANTHROPIC_PATH, chat(stream=True), conn=conn)[2])
    assert events[-1]["type"] == "message_delta"
    assert call(srv, OPENAI_PATH, chat(), conn=conn)[0] == 200
    assert srv.stats()["connections"] == 1


def test_error_after_openai(srv):
    srv.script("m1", {"error_after": 2, "error": {"message": "boom", "type": "server_error"}},
               {"error_after": 0})
    events = sse_events(call(srv, OPENAI_PATH, chat(stream=True))[2])
    assert len(events) == 3
    assert json.loads(events[2][1]) == {"error": {"message": "boom", "type": "server_error"}}
    events = sse_events(call(srv, OPENAI_PATH, chat(stream=True))[2])
    assert len(events) == 1 and "error" in json.loads(events[0][1])


def test_error_after_anthropic(srv):
    srv.script("m1", {"error_after": 3, "error": {"type": "overloaded_error", "message": "busy"}})
    events = anthropic_events(call(srv, ANTHROPIC_PATH, chat(stream=True))[2])
    assert [e["type"] for e in events] == ["message_start", "content_block_start", "ping", "error"]
    assert events[-1]["error"] == {"type": "overloaded_error", "message": "busy"}


def test_stall_after_with_duration(srv):
    srv.script("m1", {"stall_after": 2, "stall_ms": 300})
    sock = raw_send(srv, OPENAI_PATH, chat(stream=True))
    reader = RawReader(sock)
    assert reader.head()[0] == 200
    chunks = reader.chunks()
    next(chunks), next(chunks)
    start = time.monotonic()
    next(chunks)
    assert time.monotonic() - start >= 0.25
    assert list(chunks)[-1] == b"data: [DONE]\n\n"
    sock.close()


def test_stall_after_without_duration_holds_until_client_leaves(srv):
    srv.script("m1", {"stall_after": 1})
    baseline = srv.stats()["open"] - 1
    sock = raw_send(srv, ANTHROPIC_PATH, chat(stream=True), timeout=0.3)
    reader = RawReader(sock)
    reader.head()
    first = next(reader.chunks())
    assert first.startswith(b"event: message_start\n")
    with pytest.raises(socket.timeout):
        reader.line()
    sock.close()
    assert open_count_drops_to(srv, baseline)


@pytest.mark.parametrize("path", [OPENAI_PATH, ANTHROPIC_PATH])
def test_drop_after(srv, path):
    srv.script("m1", {"drop_after": 2})
    sock = raw_send(srv, path, chat(stream=True))
    time.sleep(0.1)  # the events sent before the drop are still delivered
    reader = RawReader(sock)
    status, headers = reader.head()
    assert status == 200 and headers["transfer-encoding"] == "chunked"
    got = []
    with pytest.raises((ConnectionResetError, EOFError)):
        for chunk in reader.chunks():
            got.append(chunk)
    assert len(got) == 2
    sock.close()


def test_drop_after_http_client_sees_incomplete_body(srv):
    srv.script("m1", {"drop_after": 3})
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    conn.request("POST", OPENAI_PATH, json.dumps(chat(stream=True)))
    resp = conn.getresponse()
    with pytest.raises((http.client.IncompleteRead, ConnectionResetError)):
        resp.read()
    conn.close()


def test_byte_at_a_time(srv):
    srv.script("m1", {"byte_at_a_time": True, "content": "héllo wörld"},
               {"byte_at_a_time": True, "content": "plain"})
    sock = raw_send(srv, OPENAI_PATH, chat(stream=True))
    reader = RawReader(sock)
    assert reader.head()[0] == 200
    chunks = list(reader.chunks())
    assert len(chunks) > 100 and all(len(c) == 1 for c in chunks)
    assert openai_text(openai_chunks(b"".join(chunks))) == "héllo wörld"
    sock.sendall(b"POST %s HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n%s" % (
        OPENAI_PATH.encode(), len(json.dumps(chat())), json.dumps(chat()).encode()))
    status, headers = reader.head()  # same connection: the stream ended cleanly
    body = json.loads(reader.exact(int(headers["content-length"])))
    assert body["choices"][0]["message"]["content"] == "plain"
    sock.close()


def test_event_delay_ms(srv):
    srv.script("m1", {"event_delay_ms": 50})
    start = time.monotonic()
    events = sse_events(call(srv, OPENAI_PATH, chat(stream=True))[2])
    assert len(events) == 6 and time.monotonic() - start >= 0.25


def test_sse_with_error_status(srv):
    srv.script("m1", {"status": 503, "sse": ["data: {}\n\n"]})
    status, headers, payload = call(srv, OPENAI_PATH, chat(stream=True))
    assert status == 503 and headers["content-type"] == "text/event-stream"
    assert payload == b"data: {}\n\n"


def test_http10_stream_is_closed_not_chunked(srv):
    body = json.dumps(chat(stream=True)).encode()
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    sock.sendall(b"POST /v1/chat/completions HTTP/1.0\r\nContent-Length: %d\r\n\r\n%s"
                 % (len(body), body))
    data = b""
    while True:
        piece = sock.recv(65536)
        if not piece:
            break
        data += piece
    sock.close()
    head, _, payload = data.partition(b"\r\n\r\n")
    assert b"chunked" not in head.lower()
    assert payload.endswith(b"data: [DONE]\n\n")
    assert openai_text(openai_chunks(payload)) == "echo: hello world"


# ---- HTTP details ---------------------------------------------------------------------

def test_expect_100_continue(srv):
    body = json.dumps(chat()).encode()
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n"
                 b"Expect: 100-continue\r\n\r\n" % len(body))
    reader = RawReader(sock)
    assert reader.head()[0] == 100
    sock.sendall(body)
    status, headers = reader.head()
    assert status == 200
    assert json.loads(reader.exact(int(headers["content-length"])))["object"] == "chat.completion"
    sock.close()


@pytest.mark.parametrize("expect", [b"", b"Expect: 100-continue\r\n"])
def test_oversized_request_body_is_413(srv, expect):
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n%s\r\n"
                 % (64 * 1024 * 1024 + 1, expect))
    reader = RawReader(sock)
    status, headers = reader.head()
    assert status == 413 and headers["connection"] == "close"
    assert "error" in json.loads(reader.exact(int(headers["content-length"])))
    sock.close()


def test_chunked_request_body(srv):
    body = json.dumps(chat(text="chunked upload")).encode()
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                 + b"%x\r\n%s\r\n" % (10, body[:10]) + b"%x\r\n%s\r\n" % (len(body) - 10, body[10:])
                 + b"0\r\n\r\n")
    reader = RawReader(sock)
    status, headers = reader.head()
    body = json.loads(reader.exact(int(headers["content-length"])))
    assert body["choices"][0]["message"]["content"] == "echo: chunked upload"
    sock.close()


# ---- process behaviour -----------------------------------------------------------------

def test_client_disconnects_never_print_tracebacks():
    cases = [  # (step, read a little before leaving)
        ({"chunks": 50000}, True),
        ({"hang": True}, False),
        ({"stall_after": 1}, True),
        ({"chunks": 50000, "byte_at_a_time": True}, True),
        ({"delay_ms": 200}, False),
    ]
    with tempfile.TemporaryFile() as err:
        with TestServer(stderr=err) as server:
            server.script("*", *[step for step, _ in cases])
            for _, read_first in cases:
                sock = raw_send(server, OPENAI_PATH, chat(stream=True))
                if read_first:
                    sock.recv(100)
                else:
                    time.sleep(0.1)
                # leave with a reset, the rudest way to go
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
            assert wait_for(lambda: server.stats()["open"] <= 1)
            assert call(server, OPENAI_PATH, chat())[0] == 200
        err.seek(0)
        assert err.read() == b""


def test_stdout_is_one_line_and_shutdown_endpoint_stops():
    proc = subprocess.Popen([sys.executable, str(SERVER_SCRIPT)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    line = proc.stdout.readline().decode()
    assert line.startswith("LISTENING ")
    server = TestServer(url="http://127.0.0.1:%d" % int(line.split()[1]))
    call(server, OPENAI_PATH, chat())
    server.shutdown()
    out, err = proc.communicate(timeout=5)
    assert proc.returncode == 0 and out == b"" and err == b""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signals_stop_the_server(sig):
    proc = subprocess.Popen([sys.executable, str(SERVER_SCRIPT), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().startswith(b"LISTENING ")
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=5)
    assert proc.returncode == 0 and err == b""


def test_run_with_server_passes_url_and_exit_code():
    script = ("import json, os, sys, urllib.request\n"
              "url = os.environ['MODELS_TEST_SERVER']\n"
              "opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))\n"
              "stats = json.load(opener.open(url + '/_control/stats'))\n"
              "sys.exit(3 if stats['requests'] == 0 else 1)\n")
    runner = os.path.join(HERE, "run_with_server.py")
    proc = subprocess.run([sys.executable, runner, "--", sys.executable, "-c", script], timeout=20)
    assert proc.returncode == 3
    proc = subprocess.run([sys.executable, runner, sys.executable, "-c", "pass"], timeout=20)
    assert proc.returncode == 0


# ---- stream breaks and continuations (stream_breaks.py, issue 18) ---------------

def test_break_modes(srv):
    for mode, last in (("truncate", b'"delta":{"content":"beta "}'), ("malformed", b'"delta": '),
                       ("error", b'"scripted stream error"')):
        srv.reset()
        srv.script("m1", {"content": "alpha beta gamma", "break_after": 3, "break_mode": mode})
        status, _, payload = call(srv, OPENAI_PATH, chat(stream=True))
        assert status == 200 and b"[DONE]" not in payload and b"gamma" not in payload
        assert last in payload.rstrip(b"\n").split(b"\n\n")[-1], (mode, payload)
    srv.reset()
    srv.script("m1", {"content": "alpha beta gamma", "break_after": 2, "break_mode": "reset"})
    with pytest.raises((http.client.IncompleteRead, ConnectionError)):
        call(srv, OPENAI_PATH, chat(stream=True))
    status, _, payload = call(srv, "/_control/script", {"model": "m1", "steps": [{"break_mode": "sometimes"}]})
    assert status == 400 and b"break_mode" in payload


def test_continuations(srv):
    text = "alpha beta gamma delta"
    cases = [  # (trailing messages, what the answer continues with)
        ([{"role": "assistant", "content": "alpha beta"}], " gamma delta"),                      # prefill
        ([{"role": "assistant", "content": "alpha beta ", "prefix": True}], "gamma delta"),      # prefix
        ([{"role": "assistant", "content": "alpha beta gamma "}, {"role": "user", "content": "go on"}],
         "beta gamma delta"),                                                                      # two words again
        ([], text),                                                                                # no partial answer
    ]
    for extra, expected in cases:
        srv.reset()
        srv.script("m1", {"content": text, "continues": True})
        body = chat()
        body["messages"] += extra
        status, _, payload = call(srv, OPENAI_PATH, body)
        assert status == 200
        assert json.loads(payload)["choices"][0]["message"]["content"] == expected
