#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Loopback LLM test server for libmodels (Python standard library only).

Speaks the OpenAI Chat Completions wire format, the Anthropic Messages API and
the GitHub Copilot token exchange, and misbehaves on script.  See README.md in
this directory for the control API and the step language.

    python3 llm_test_server.py [--host 127.0.0.1] [--port 0] [--verbose]

Prints exactly one line, ``LISTENING <port>``, once it accepts connections.
"""

import argparse
import json
import os
import re
import select
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterable, Iterator, List, Optional
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llm_embeddings  # noqa: E402  (the embeddings wire format)
import stream_breaks  # noqa: E402  (breaks after any event, continuations: issue 18)
import bedrock_wire  # noqa: E402  (AWS Bedrock Converse / ConverseStream)

MAX_REQUEST_BODY = 64 * 1024 * 1024  # larger request bodies get a 413
HANG_CAP_S = 120.0                   # "hang" never lasts longer than this
POLL_S = 0.05                        # how often a waiting handler checks its client
CONTROL_PREFIX = "/_control/"

OPENAI, ANTHROPIC, TOKEN, EMBEDDINGS, BEDROCK = "openai", "anthropic", "token", "embeddings", bedrock_wire.BEDROCK


# --------------------------------------------------------------------------
# The step: one scripted answer
# --------------------------------------------------------------------------

_ANY = object  # any JSON value


@dataclass
class Step:
    """One scripted answer; every key of the step language is a field."""

    delay_ms: int = 0
    hang: bool = False
    reset: bool = False
    status: int = 200
    headers: Dict[str, Any] = field(default_factory=dict)
    body: Any = None
    body_size: Optional[int] = None
    content: Optional[str] = None
    tool_calls: Optional[List[Dict[str, Any]]] = None
    thinking: Optional[str] = None
    usage: Optional[Dict[str, Any]] = None
    stop_reason: Optional[str] = None
    finish_reason: Optional[str] = None
    chunks: Optional[int] = None
    sse: Optional[List[Any]] = None
    omit_terminator: bool = False
    error_after: Optional[int] = None
    error: Any = None
    stall_after: Optional[int] = None
    stall_ms: Optional[int] = None
    drop_after: Optional[int] = None
    byte_at_a_time: bool = False
    close: bool = False
    event_delay_ms: int = 0
    trailing: Optional[str] = None
    trailing_delay_ms: int = 0
    break_after: Optional[int] = None
    break_mode: Optional[str] = None
    continues: bool = False
    has_body: bool = False  # set when the script has a "body" key (even null)

    TYPES = {
        "delay_ms": int, "hang": bool, "reset": bool, "status": int,
        "headers": dict, "body": _ANY, "body_size": int, "content": str,
        "tool_calls": list, "thinking": str, "usage": dict, "stop_reason": str,
        "finish_reason": str, "chunks": int, "sse": list, "omit_terminator": bool,
        "error_after": int, "error": _ANY, "stall_after": int, "stall_ms": int,
        "drop_after": int, "byte_at_a_time": bool, "close": bool,
        "event_delay_ms": int, "trailing": str, "trailing_delay_ms": int,
        **stream_breaks.STEP_TYPES,
    }

    @classmethod
    def from_dict(cls, raw: Any) -> "Step":
        if not isinstance(raw, dict):
            raise ValueError("a step must be a JSON object, got %r" % (raw,))
        unknown = sorted(set(raw) - set(cls.TYPES))
        if unknown:
            raise ValueError("unknown step key(s): %s" % ", ".join(unknown))
        values = {}
        for key, value in raw.items():
            want = cls.TYPES[key]
            if value is None and key != "body":
                continue
            if want is int and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError("step key %r must be an integer" % key)
            if want is not _ANY and not isinstance(value, want):
                raise ValueError("step key %r must be a %s" % (key, want.__name__))
            values[key] = value
        for call in values.get("tool_calls", []):
            if not isinstance(call, dict) or not isinstance(call.get("name"), str):
                raise ValueError("each tool call needs a string \"name\"")
        step = cls(has_body="body" in raw, **values)
        stream_breaks.check(step)
        return step


# --------------------------------------------------------------------------
# Shared state: scripts, recorded requests, counters
# --------------------------------------------------------------------------

class State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.generation = 0
        self.open_connections = 0
        self.next_connection_id = 0
        self._clear()

    def _clear(self) -> None:
        self.generation += 1
        self.queues: Dict[str, deque] = {}
        self.recorded: List[Dict[str, Any]] = []
        self.requests = 0
        self.connections = 0  # connections that carried a non-control request
        self.accepted = 0     # every TCP connection accepted
        self.ids = 0          # chatcmpl-<n> / msg_<n>
        self.tokens = 0       # cop-tok-<n>

    def reset(self) -> None:
        with self.lock:
            self._clear()

    def connection_opened(self) -> int:
        with self.lock:
            self.accepted += 1
            self.open_connections += 1
            self.next_connection_id += 1
            return self.next_connection_id

    def connection_closed(self) -> None:
        with self.lock:
            self.open_connections -= 1

    def add_steps(self, key: str, steps: List[Step]) -> int:
        with self.lock:
            queue = self.queues.setdefault(key, deque())
            queue.extend(steps)
            return len(queue)

    def pop_step(self, keys: Iterable[Optional[str]]) -> Optional[Step]:
        with self.lock:
            for key in keys:
                queue = self.queues.get(key) if key is not None else None
                if queue:
                    return queue.popleft()
            return None

    def record(self, entry: Dict[str, Any], handler: "Handler") -> None:
        """Record a non-control request; count its connection once per reset."""
        with self.lock:
            self.requests += 1
            if handler.counted_generation != self.generation:
                handler.counted_generation = self.generation
                self.connections += 1
            self.recorded.append(entry)

    def next_id(self) -> int:
        with self.lock:
            self.ids += 1
            return self.ids

    def next_token(self) -> int:
        with self.lock:
            self.tokens += 1
            return self.tokens

    def stats(self) -> Dict[str, Any]:
        with self.lock:
            return {
                "connections": self.connections,
                "requests": self.requests,
                "accepted": self.accepted,
                "open": self.open_connections,
                "pending": {k: len(q) for k, q in self.queues.items() if q},
            }

    def snapshot(self) -> List[Dict[str, Any]]:
        with self.lock:
            return list(self.recorded)


# --------------------------------------------------------------------------
# Wire helpers
# --------------------------------------------------------------------------

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
dumps = _ENCODER.encode  # compact JSON, UTF-8 kept as is


def sse_data(obj: Any) -> bytes:
    return ("data: %s\n\n" % dumps(obj)).encode()


def sse_event(name: str, obj: Any) -> bytes:
    return ("event: %s\ndata: %s\n\n" % (name, dumps(obj))).encode()


def split_words(text: str) -> List[str]:
    """Word-sized pieces that keep their spaces: "".join(pieces) == text."""
    pieces = re.findall(r"\s*\S+\s*", text)
    return pieces or ([text] if text else [])


def split_even(text: str, n: int) -> List[str]:
    return [text[i * len(text) // n:(i + 1) * len(text) // n] for i in range(n)]


def split_arguments(args: str) -> List[str]:
    """Tool-call arguments in 2+ pieces (3 when long enough)."""
    n = min(3, len(args))
    return split_even(args, n) if n >= 2 else [args]


def text_of(content: Any, skip_tool_results: bool = False) -> str:
    """The text of a message content: a string or a list of parts/blocks."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    texts = []
    for part in content:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict):
            if part.get("type") == "tool_result":
                if not skip_tool_results:
                    texts.append(text_of(part.get("content")))
            elif isinstance(part.get("text"), str):
                texts.append(part["text"])
    return " ".join(t for t in texts if t)


def last_user_text(messages: List[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return text_of(message.get("content"), skip_tool_results=True)
    return ""


def prompt_words(messages: List[Any]) -> int:
    words = 0
    for message in messages:
        if isinstance(message, dict):
            words += len(text_of(message.get("content")).split())
    return max(1, words)


# --------------------------------------------------------------------------
# The answer the default generators send
# --------------------------------------------------------------------------

class Answer:
    """What to answer: text (lazily generated for long streams), thinking,
    tool calls, token counts.  text is None when there is no text at all."""

    def __init__(self, request: Dict[str, Any], step: Step) -> None:
        messages = request.get("messages")
        messages = messages if isinstance(messages, list) else []
        self.model = request.get("model")
        self.step = step
        self.thinking = step.thinking
        self.tool_calls = [self._tool_call(i, c) for i, c in enumerate(step.tool_calls or [])]
        self.chunks = step.chunks if step.chunks and step.chunks > 0 else None
        if step.content is not None:
            self.text: Optional[str] = step.content
        elif self.chunks or self.tool_calls:
            self.text = None  # chunks: "w0 w1 ..." generated on demand; tool calls: no text
        else:
            self.text = "echo: " + last_user_text(messages)
        self.prompt_tokens = prompt_words(messages)
        self.generated_words = bool(self.chunks) and self.text is None
        self.completion_tokens = self.chunks if self.generated_words else len((self.text or "").split())

    @staticmethod
    def _tool_call(index: int, call: Dict[str, Any]) -> Dict[str, str]:
        args = call.get("arguments", call.get("input", ""))
        if not isinstance(args, str):
            args = dumps(args)
        return {"id": call.get("id") or "call_%d" % (index + 1), "name": call["name"],
                "arguments": args}

    @property
    def has_text(self) -> bool:
        return self.text is not None or self.generated_words

    def pieces(self) -> Iterator[str]:
        """The text in stream pieces; "".join(pieces()) is the whole text."""
        if self.generated_words:
            last = self.chunks - 1
            return ("w%d" % i if i == last else "w%d " % i for i in range(self.chunks))
        if self.chunks:
            return iter(split_even(self.text, self.chunks))
        return iter(split_words(self.text or ""))

    def full_text(self) -> Optional[str]:
        return "".join(self.pieces()) if self.has_text else None


def tool_input(arguments: str) -> Any:
    try:
        value = json.loads(arguments) if arguments else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# ---- OpenAI ---------------------------------------------------------------

def openai_usage(answer: Answer) -> Dict[str, Any]:
    usage = {"prompt_tokens": answer.prompt_tokens, "completion_tokens": answer.completion_tokens}
    usage.update(answer.step.usage or {})
    usage.setdefault("total_tokens", usage["prompt_tokens"] + usage["completion_tokens"])
    return usage


def openai_finish(answer: Answer) -> str:
    return answer.step.finish_reason or ("tool_calls" if answer.tool_calls else "stop")


def openai_response(answer: Answer, n: int) -> Dict[str, Any]:
    message: Dict[str, Any] = {"role": "assistant", "content": answer.full_text()}
    if answer.thinking is not None:
        message["reasoning_content"] = answer.thinking
    if answer.tool_calls:
        message["tool_calls"] = [
            {"id": c["id"], "type": "function",
             "function": {"name": c["name"], "arguments": c["arguments"]}}
            for c in answer.tool_calls]
    return {
        "id": "chatcmpl-%d" % n, "object": "chat.completion", "created": int(time.time()),
        "model": answer.model,
        "choices": [{"index": 0, "message": message, "finish_reason": openai_finish(answer)}],
        "usage": openai_usage(answer),
    }


def openai_stream(answer: Answer, n: int, include_usage: bool) -> Iterator[bytes]:
    base = {"id": "chatcmpl-%d" % n, "object": "chat.completion.chunk",
            "created": int(time.time()), "model": answer.model}
    head = "data: " + dumps(base)[:-1] + ',"choices":[{"index":0,"delta":'

    def chunk(delta: Dict[str, Any], finish: Optional[str] = None) -> bytes:
        # == sse_data(dict(base, choices=[{"index": 0, "delta": delta, "finish_reason": finish}]))
        return (head + dumps(delta) + ',"finish_reason":' + dumps(finish) + "}]}\n\n").encode()

    yield chunk({"role": "assistant", "content": ""})
    for piece in split_words(answer.thinking or ""):
        yield chunk({"reasoning_content": piece})
    if answer.has_text:
        for piece in answer.pieces():
            yield chunk({"content": piece})
    for i, call in enumerate(answer.tool_calls):
        yield chunk({"tool_calls": [{"index": i, "id": call["id"], "type": "function",
                                     "function": {"name": call["name"], "arguments": ""}}]})
        for piece in split_arguments(call["arguments"]):
            yield chunk({"tool_calls": [{"index": i, "function": {"arguments": piece}}]})
    yield chunk({}, openai_finish(answer))
    if include_usage:
        yield sse_data(dict(base, choices=[], usage=openai_usage(answer)))
    if not answer.step.omit_terminator:
        yield b"data: [DONE]\n\n"


# ---- Anthropic ------------------------------------------------------------

def anthropic_usage(answer: Answer) -> Dict[str, Any]:
    usage = {"input_tokens": answer.prompt_tokens, "output_tokens": answer.completion_tokens}
    usage.update(answer.step.usage or {})
    return usage


def anthropic_stop(answer: Answer) -> str:
    return answer.step.stop_reason or ("tool_use" if answer.tool_calls else "end_turn")


def anthropic_response(answer: Answer, n: int) -> Dict[str, Any]:
    content: List[Dict[str, Any]] = []
    if answer.thinking is not None:
        content.append({"type": "thinking", "thinking": answer.thinking, "signature": "sig"})
    if answer.has_text:
        content.append({"type": "text", "text": answer.full_text()})
    for call in answer.tool_calls:
        content.append({"type": "tool_use", "id": call["id"], "name": call["name"],
                        "input": tool_input(call["arguments"])})
    return {"id": "msg_%d" % n, "type": "message", "role": "assistant", "model": answer.model,
            "content": content, "stop_reason": anthropic_stop(answer), "stop_sequence": None,
            "usage": anthropic_usage(answer)}


def anthropic_stream(answer: Answer, n: int) -> Iterator[bytes]:
    def event(name: str, **payload: Any) -> bytes:
        return sse_event(name, dict(type=name, **payload))

    usage = anthropic_usage(answer)
    start_usage = dict(usage, output_tokens=1)
    yield event("message_start", message={
        "id": "msg_%d" % n, "type": "message", "role": "assistant", "model": answer.model,
        "content": [], "stop_reason": None, "stop_sequence": None, "usage": start_usage})

    blocks = []  # (content_block, iterator of deltas)
    if answer.thinking is not None:
        deltas = [{"type": "thinking_delta", "thinking": p} for p in split_words(answer.thinking)]
        deltas.append({"type": "signature_delta", "signature": "sig"})
        blocks.append(({"type": "thinking", "thinking": ""}, iter(deltas)))
    if answer.has_text:
        blocks.append(({"type": "text", "text": ""},
                       ({"type": "text_delta", "text": p} for p in answer.pieces())))
    for call in answer.tool_calls:
        blocks.append(({"type": "tool_use", "id": call["id"], "name": call["name"], "input": {}},
                       ({"type": "input_json_delta", "partial_json": p}
                        for p in split_arguments(call["arguments"]))))

    if not blocks:
        yield event("ping")
    for index, (block, deltas) in enumerate(blocks):
        yield event("content_block_start", index=index, content_block=block)
        if index == 0:
            yield event("ping")
        for delta in deltas:
            yield event("content_block_delta", index=index, delta=delta)
        yield event("content_block_stop", index=index)
    yield event("message_delta", delta={"stop_reason": anthropic_stop(answer), "stop_sequence": None},
                usage={"output_tokens": usage["output_tokens"]})
    if not answer.step.omit_terminator:
        yield event("message_stop")


# ---- Errors, raw SSE, sized bodies -----------------------------------------

_ERROR_KINDS = {  # status: (Anthropic error type, OpenAI error type, OpenAI code)
    400: ("invalid_request_error", "invalid_request_error", None),
    401: ("authentication_error", "authentication_error", "invalid_api_key"),
    403: ("permission_error", "permission_error", None),
    404: ("not_found_error", "not_found_error", "model_not_found"),
    413: ("request_too_large", "invalid_request_error", "request_too_large"),
    429: ("rate_limit_error", "rate_limit_error", "rate_limit_exceeded"),
    529: ("overloaded_error", "server_error", "overloaded"),
}


def error_body(mode: str, status: int, message: Optional[str] = None) -> Dict[str, Any]:
    message = message or "scripted error %d" % status
    anthropic_type, openai_type, code = _ERROR_KINDS.get(
        status, ("api_error", "server_error" if status >= 500 else "invalid_request_error", None))
    if mode == ANTHROPIC:
        return {"type": "error", "error": {"type": anthropic_type, "message": message}}
    return {"error": {"message": message, "type": openai_type, "code": code}}


def stream_error_event(mode: str, error: Any) -> bytes:
    if mode == BEDROCK:
        return bedrock_wire.exception(error)
    if mode == ANTHROPIC:
        if error is None:
            error = {"type": "overloaded_error", "message": "Overloaded"}
        return sse_event("error", {"type": "error", "error": error})
    if error is None:
        error = {"message": "scripted stream error", "type": "server_error", "code": None}
    return sse_data({"error": error})


def raw_sse(items: List[Any]) -> Iterator[bytes]:
    for item in items:
        if isinstance(item, str):
            yield item.encode()
        elif isinstance(item, dict) and "event" in item and set(item) <= {"event", "data"}:
            if "data" not in item:
                yield ("event: %s\n\n" % item["event"]).encode()
            else:
                data = item["data"]
                data = data if isinstance(data, str) else dumps(data)
                yield ("event: %s\ndata: %s\n\n" % (item["event"], data)).encode()
        else:
            yield sse_data(item)


def sized_body(base: Dict[str, Any], size: int) -> Iterator[bytes]:
    """`size` bytes: `base` as JSON with a "padding" string, generated in pieces."""
    head = dumps(base)[:-1] + (',"padding":"' if base else '"padding":"')
    head_bytes, tail = head.encode(), b'"}'
    pad = size - len(head_bytes) - len(tail)
    if pad < 0:  # too small for the base object: '{}' and blanks
        yield (b"{}" + b" " * size)[:size]
        return
    yield head_bytes
    block = b"x" * 65536
    while pad > 0:
        yield block[:pad]
        pad -= len(block)
    yield tail


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------

class StreamWriter:
    """Writes a streaming body: each SSE event is one HTTP chunk (or, with
    byte_at_a_time, each byte is one chunk and one send()).  Small chunks are
    batched into one send() until flush(); callers flush before any pause."""

    BATCH_BYTES = 32 * 1024

    def __init__(self, out: Any, chunked: bool, byte_at_a_time: bool) -> None:
        self.out, self.chunked, self.byte_at_a_time = out, chunked, byte_at_a_time
        self.pending: List[bytes] = []
        self.pending_bytes = 0

    def event(self, data: bytes) -> None:
        if not data:
            return  # an empty chunk would end a chunked body
        if self.byte_at_a_time:
            self.flush()
            frame = b"1\r\n%s\r\n" if self.chunked else b"%s"
            for i in range(len(data)):
                self.out.write(frame % data[i:i + 1])
            return
        self.pending.append(b"%x\r\n%s\r\n" % (len(data), data) if self.chunked else data)
        self.pending_bytes += len(data)
        if self.pending_bytes >= self.BATCH_BYTES:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.out.write(b"".join(self.pending))
            self.pending, self.pending_bytes = [], 0

    def end(self) -> None:
        if self.chunked:
            self.pending.append(b"0\r\n\r\n")
        self.flush()


def route(method: str, path: str) -> Optional[str]:
    if method == "POST" and path.endswith("/chat/completions"):
        return OPENAI
    if method == "POST" and path.endswith("/messages"):
        return ANTHROPIC
    if method == "POST" and path.endswith("/embeddings"):
        return EMBEDDINGS
    if method == "GET" and path.endswith("/copilot_internal/v2/token"):
        return TOKEN
    if bedrock_wire.route(method, path):
        return BEDROCK
    return None


class ClientGone(Exception):
    """The connection is over: the client went away, the server is stopping,
    or a scripted drop closed it."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "llm-test-server/1"
    server: "LLMTestServer"

    # ---- connection lifecycle -------------------------------------------------

    def setup(self) -> None:
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.connection_id = self.server.state.connection_opened()
        self.counted_generation = 0

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.state.connection_closed()

    def handle(self) -> None:
        try:
            super().handle()
        except (OSError, ClientGone):  # reset, broken pipe, timeout, ...
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def abort(self) -> None:
        """Close the connection at once with a TCP reset (SO_LINGER 0)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            self.rfile.close()  # drops the makefile's reference so close() is real
        except OSError:
            pass
        self.connection.close()

    def wait(self, seconds: float) -> None:
        """Send nothing for `seconds`; raise ClientGone when the client closes
        its side or the server stops."""
        deadline = time.monotonic() + seconds
        stopping = self.server.stopping
        while True:
            if stopping.is_set():
                raise ClientGone()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if readable(self.connection, min(POLL_S, remaining)):
                try:
                    data = self.connection.recv(1, socket.MSG_PEEK)
                except OSError:
                    raise ClientGone()
                if not data:
                    raise ClientGone()
                stopping.wait(min(POLL_S, remaining))  # pipelined data: just wait

    # ---- reading the request --------------------------------------------------

    def declared_length(self) -> Optional[int]:
        value = self.headers.get("Content-Length")
        if value is None:
            return None
        try:
            length = int(value)
        except ValueError:
            length = -1
        if length < 0:
            raise ValueError("bad Content-Length")
        return length

    def handle_expect_100(self) -> bool:
        try:
            length = self.declared_length()
        except ValueError:
            length = None
        if length is not None and length > MAX_REQUEST_BODY:
            self.reject_too_large()
            return False
        return super().handle_expect_100()

    def reject_too_large(self) -> None:
        mode = route(self.command, urlsplit(self.path).path) or OPENAI
        self.send_json(413, error_body(mode, 413, "request body over %d bytes" % MAX_REQUEST_BODY),
                       extra={"Connection": "close"})
        self.close_connection = True

    def read_body(self) -> Optional[bytes]:
        """The request body, or None when an error answer was sent instead."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self.read_chunked()
        try:
            length = self.declared_length()
        except ValueError:
            self.send_json(400, error_body(OPENAI, 400, "bad Content-Length"),
                           extra={"Connection": "close"})
            return None
        if not length:
            return b""
        if length > MAX_REQUEST_BODY:
            self.reject_too_large()
            return None
        body = self.rfile.read(length)
        if len(body) < length:
            raise ConnectionResetError("request body cut short")
        return body

    def read_chunked(self) -> Optional[bytes]:
        parts, total = [], 0
        while True:
            line = self.rfile.readline(1024)
            if not line:
                raise ConnectionResetError("chunked request body cut short")
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                self.send_json(400, error_body(OPENAI, 400, "bad chunk size"),
                               extra={"Connection": "close"})
                return None
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            total += size
            if total > MAX_REQUEST_BODY:
                self.reject_too_large()
                return None
            data = self.rfile.read(size + 2)
            if len(data) < size + 2:
                raise ConnectionResetError("chunked request body cut short")
            parts.append(data[:size])

    # ---- writing answers ------------------------------------------------------

    def send_head(self, status: int, defaults: Dict[str, str], step: Optional[Step] = None,
                  extra: Optional[Dict[str, str]] = None) -> None:
        headers = dict(defaults)
        overrides = dict(extra or {})
        if step is not None:
            overrides.update({k: str(v) for k, v in step.headers.items()})
            if step.close:
                overrides["Connection"] = "close"
        for name, value in overrides.items():
            for existing in [k for k in headers if k.lower() == name.lower()]:
                del headers[existing]
            headers[name] = value
        if "content-length" in {k.lower() for k in overrides}:
            self.close_connection = True  # a scripted length may not match the body
        reason = "Overloaded" if status == 529 else None
        self.send_response(status, reason)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def send_bytes(self, status: int, pieces: Iterable[bytes], length: int,
                   step: Optional[Step] = None, extra: Optional[Dict[str, str]] = None,
                   content_type: str = "application/json") -> None:
        self.send_head(status, {"Content-Type": content_type, "Content-Length": str(length)},
                       step, extra)
        one_byte = step is not None and step.byte_at_a_time
        for piece in pieces:
            if one_byte:
                for i in range(len(piece)):
                    self.wfile.write(piece[i:i + 1])
            else:
                self.wfile.write(piece)

    def send_json(self, status: int, value: Any, step: Optional[Step] = None,
                  extra: Optional[Dict[str, str]] = None) -> None:
        data = value.encode() if isinstance(value, str) else dumps(value).encode()
        if status in (204, 304):
            data = b""
        self.send_bytes(status, [data], len(data), step, extra)

    def send_stream(self, status: int, step: Step, mode: str, events: Iterator[bytes]) -> None:
        chunked = self.request_version != "HTTP/1.0"
        defaults = {"Content-Type": "application/vnd.amazon.eventstream" if mode == BEDROCK else "text/event-stream",
                    "Cache-Control": "no-cache"}
        if chunked:
            defaults["Transfer-Encoding"] = "chunked"
        else:
            defaults["Connection"] = "close"
        self.send_head(status, defaults, step)
        out = StreamWriter(self.wfile, chunked, step.byte_at_a_time)

        def checkpoint(sent: int) -> bool:
            """Apply the after-K-events behaviours; True ends the stream."""
            if step.stall_after == sent:
                out.flush()
                self.wait(step.stall_ms / 1000.0 if step.stall_ms is not None else HANG_CAP_S)
            if step.drop_after == sent:
                out.flush()
                self.abort()
                raise ClientGone()
            if step.error_after == sent:
                out.event(stream_error_event(mode, step.error))
                return True
            return stream_breaks.at_break(self, step, mode, out, sent, stream_error_event, ClientGone, HANG_CAP_S)

        sent = 0
        for event in events:
            if checkpoint(sent):
                break
            if sent and step.event_delay_ms:
                out.flush()
                self.wait(step.event_delay_ms / 1000.0)
            out.event(event)
            sent += 1
        else:
            checkpoint(sent)
        out.end()
        if not chunked:
            self.close_connection = True

    # ---- dispatch -------------------------------------------------------------

    def do_GET(self) -> None:
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def dispatch(self) -> None:
        path = urlsplit(self.path).path
        body = self.read_body()
        if path.startswith(CONTROL_PREFIX):
            if body is not None:
                self.control(path[len(CONTROL_PREFIX):], body)
            return
        request = self.record(body)
        if body is None:
            return  # already answered (413 / 400)
        mode = route(self.command, path)
        if mode is None:
            self.send_json(404, error_body(OPENAI, 404, "no route for %s %s" % (self.command, path)))
            return
        model = request["model"]
        parsed = request["body"] if isinstance(request["body"], dict) else {}
        if mode == BEDROCK:
            # The model id is in the path; every request must carry a good SigV4 signature.
            model, stream = bedrock_wire.route(self.command, path)
            parsed = dict(parsed, model=model, stream=stream)
            if bedrock_wire.is_invoke(path):
                parsed["invoke"] = True  # InvokeModel: embeddings
            problem, details = bedrock_wire.verify(self.command, self.path, request["headers"], body)
            request["sigv4"] = dict(details, ok=problem is None)
            if problem is not None:
                self.send_json(403, bedrock_wire.signature_error(problem), extra=bedrock_wire.error_headers(403, problem))
                return
        keys = [TOKEN] if mode == TOKEN else [model if isinstance(model, str) else None, "*"]
        step = self.server.state.pop_step(keys) or Step()
        try:
            self.answer(mode, parsed, step)
            if step.trailing is not None:
                self.send_trailing(step)
        except ClientGone:
            request["client_gone"] = True  # the client closed the connection before the answer was over
            self.close_connection = True

    def record(self, body: Optional[bytes]) -> Dict[str, Any]:
        headers: Dict[str, str] = {}
        for name, value in self.headers.items():
            name = name.lower()
            headers[name] = headers[name] + ", " + value if name in headers else value
        text = (body or b"").decode("utf-8", "replace")
        try:
            parsed: Any = json.loads(text)
        except ValueError:
            parsed = text
        entry = {
            "method": self.command, "path": self.path, "headers": headers, "body": parsed, "body_text": text,
            "model": parsed.get("model") if isinstance(parsed, dict) else None,
            "time": time.time(), "connection": self.connection_id,
        }
        self.server.state.record(entry, self)
        return entry

    def answer(self, mode: str, request: Dict[str, Any], step: Step) -> None:
        if step.delay_ms:
            self.wait(step.delay_ms / 1000.0)
        if step.reset:
            self.abort()
            return
        if step.hang:
            self.close_connection = True
            self.wait(HANG_CAP_S)
            return
        state = self.server.state
        step = stream_breaks.continued(step, request)
        if step.body_size is not None:
            base = self.default_body(mode, request, step)
            self.send_bytes(step.status, sized_body(base, step.body_size), step.body_size, step)
        elif step.has_body:
            self.send_json(step.status, step.body, step)
        elif step.sse is not None:
            items = bedrock_wire.raw_items(step.sse) if mode == BEDROCK else raw_sse(step.sse)
            self.send_stream(step.status, step, mode, items)
        elif not 200 <= step.status < 300 and mode == BEDROCK:
            self.send_json(step.status, bedrock_wire.error_body(step.status), step, extra=bedrock_wire.error_headers(step.status))
        elif not 200 <= step.status < 300:
            self.send_json(step.status, error_body(mode, step.status), step)
        elif mode == BEDROCK and request.get("invoke") is True:
            status, body, headers = bedrock_wire.invoke(request["model"], request)
            self.send_json(status, body, step, extra=headers)
        elif mode not in (TOKEN, EMBEDDINGS) and request.get("stream") is True:
            answer = Answer(request, step)
            if mode == ANTHROPIC:
                events = anthropic_stream(answer, state.next_id())
            elif mode == BEDROCK:
                events = bedrock_wire.stream(answer, split_words, split_arguments)
            else:
                options = request.get("stream_options")
                include_usage = isinstance(options, dict) and options.get("include_usage") is True
                events = openai_stream(answer, state.next_id(), include_usage)
            self.send_stream(step.status, step, mode, events)
        else:
            self.send_json(step.status, self.default_body(mode, request, step), step)

    def send_trailing(self, step: Step) -> None:
        """Bytes after the answer that answer no request (what the second half
        of a split request gets back), after `trailing_delay_ms`; the connection
        stays open."""
        self.wfile.flush()
        if step.trailing_delay_ms:
            self.wait(step.trailing_delay_ms / 1000.0)
        self.wfile.write(step.trailing.encode())
        self.wfile.flush()

    def default_body(self, mode: str, request: Dict[str, Any], step: Step) -> Dict[str, Any]:
        state = self.server.state
        if mode == TOKEN:
            return {"token": "cop-tok-%d" % state.next_token(),
                    "expires_at": int(time.time()) + 1800,
                    "endpoints": {"api": self.server.base_url}}
        if mode == EMBEDDINGS:
            return llm_embeddings.response(request, step.usage)
        answer = Answer(request, step)
        if mode == ANTHROPIC:
            return anthropic_response(answer, state.next_id())
        if mode == BEDROCK:
            return bedrock_wire.response(answer)
        return openai_response(answer, state.next_id())

    # ---- control API ----------------------------------------------------------

    def control(self, name: str, body: bytes) -> None:
        state = self.server.state
        method = self.command
        if (method, name) == ("POST", "reset"):
            state.reset()
            self.send_json(200, {"ok": True})
        elif (method, name) == ("POST", "script"):
            try:
                key, steps = parse_script(body)
            except ValueError as exc:
                self.send_json(400, {"error": str(exc)})
                return
            self.send_json(200, {"ok": True, "queued": state.add_steps(key, steps)})
        elif (method, name) == ("GET", "requests"):
            self.send_json(200, state.snapshot())
        elif (method, name) == ("GET", "stats"):
            self.send_json(200, state.stats())
        elif (method, name) == ("POST", "shutdown"):
            self.send_json(200, {"ok": True}, extra={"Connection": "close"})
            self.server.stop()
        else:
            self.send_json(404, {"error": "unknown control endpoint %s %s" % (method, name)})


def parse_script(body: bytes) -> "tuple[str, List[Step]]":
    try:
        doc = json.loads(body.decode("utf-8"))
    except ValueError as exc:
        raise ValueError("script body is not JSON: %s" % exc)
    if not isinstance(doc, dict) or not isinstance(doc.get("model"), str):
        raise ValueError('script body must be {"model": "<key>", "steps": [...]}')
    raw_steps = doc.get("steps", [doc["step"]] if "step" in doc else None)
    if not isinstance(raw_steps, list):
        raise ValueError('"steps" must be a list of step objects')
    return doc["model"], [Step.from_dict(s) for s in raw_steps]


def readable(sock: socket.socket, timeout: float) -> bool:
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(sock, select.POLLIN | select.POLLPRI)
        return bool(poller.poll(timeout * 1000))
    return bool(select.select([sock], [], [], timeout)[0])


class LLMTestServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, host: str, port: int, verbose: bool = False) -> None:
        if ":" in host:
            self.address_family = socket.AF_INET6
        self.verbose = verbose
        self.state = State()
        self.stopping = threading.Event()
        super().__init__((host, port), Handler)
        shown = "127.0.0.1" if host in ("", "0.0.0.0") else ("[%s]" % host if ":" in host else host)
        self.base_url = "http://%s:%d" % (shown, self.server_address[1])

    def server_bind(self) -> None:
        # HTTPServer.server_bind would call getfqdn(), a reverse DNS lookup.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (OSError, ClientGone)):
            return  # a client went away: not our problem
        super().handle_error(request, client_address)

    def stop(self) -> None:
        """Stop serving (from any thread, including signal handlers)."""
        self.stopping.set()
        threading.Thread(target=self.shutdown, daemon=True).start()


def watch_stdin(server: LLMTestServer) -> None:
    """Stop when stdin reaches EOF (the parent process went away)."""
    try:
        while os.read(0, 65536):  # the raw fd: no buffered-object lock at exit
            pass
    except OSError:
        pass
    server.stop()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Loopback LLM test server for libmodels.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--verbose", action="store_true", help="log requests to stderr")
    parser.add_argument("--exit-on-stdin-eof", action="store_true",
                        help="stop when stdin is closed (ties the server to its parent)")
    args = parser.parse_args(argv)

    server = LLMTestServer(args.host, args.port, args.verbose)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: server.stop())
    if args.exit_on_stdin_eof:
        threading.Thread(target=watch_stdin, args=(server,), daemon=True).start()
    print("LISTENING %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.stopping.set()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
