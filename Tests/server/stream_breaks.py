# SPDX-License-Identifier: Apache-2.0
"""Stream breaks and continuations for the loopback test server (issue 18).

Step keys (see README.md):

- ``break_after: K`` with ``break_mode``: after K events the stream breaks:
  ``"reset"`` (TCP reset), ``"truncate"`` (the body ends cleanly without the
  terminator), ``"malformed"`` (an event whose data is not JSON, then the end),
  ``"error"`` (an error event, then the end), ``"stall"`` (nothing more until
  the client leaves).
- ``continues: true``: the answer continues a partial answer the request
  carries, so that the step's ``content`` is the whole answer: a trailing
  assistant message (Anthropic prefill, or OpenAI with ``"prefix": true``) is
  continued exactly; an assistant message followed by a user message (the
  instruction form) is continued after repeating its last two words, the
  overlap a client must remove. A request without a partial answer gets the
  whole ``content``.
"""

import dataclasses
import re
from typing import Any, Callable, List, Optional, Tuple

BREAK_MODES = ("reset", "truncate", "malformed", "error", "stall")

STEP_TYPES = {"break_after": int, "break_mode": str, "continues": bool}


def check(step: Any) -> None:
    """Raises ValueError for a bad break_mode."""
    if step.break_mode is not None and step.break_mode not in BREAK_MODES:
        raise ValueError("step key 'break_mode' must be one of %s" % ", ".join(BREAK_MODES))


def malformed_event(mode: str) -> bytes:
    if mode == "anthropic":
        return b'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, \n\n'
    return b'data: {"choices": [{"index": 0, "delta": \n\n'


def at_break(handler: Any, step: Any, mode: str, out: Any, sent: int,
             error_event: Callable[[str, Any], bytes], gone: type, hang_s: float) -> bool:
    """Applies a break scripted after `sent` events; True ends the stream."""
    if step.break_after is None or step.break_after != sent:
        return False
    kind = step.break_mode or "reset"
    if kind == "reset":
        out.flush()
        handler.abort()
        raise gone()
    if kind == "stall":
        out.flush()
        handler.wait(hang_s)
        handler.close_connection = True
        raise gone()
    if kind == "malformed":
        out.event(malformed_event(mode))
    elif kind == "error":
        out.event(error_event(mode, step.error))
    return True


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def partial_answer(request: Any) -> Tuple[Optional[str], str]:
    """The partial answer a continuation request carries, and its form."""
    messages = request.get("messages") if isinstance(request, dict) else None
    if not isinstance(messages, list) or not messages or not isinstance(messages[-1], dict):
        return None, ""
    last = messages[-1]
    if last.get("role") == "assistant":
        return _text(last.get("content")), "prefix"
    if last.get("role") == "user" and len(messages) >= 2 and isinstance(messages[-2], dict) \
            and messages[-2].get("role") == "assistant":
        return _text(messages[-2].get("content")), "instruction"
    return None, ""


def continued(step: Any, request: Any) -> Any:
    """The step with `content` cut to what continues the request's partial answer."""
    if not step.continues or step.content is None:
        return step
    partial, form = partial_answer(request)
    text = step.content
    if partial is None or not text.startswith(partial):
        return dataclasses.replace(step, continues=False)
    rest = text[len(partial):]
    if form == "instruction":
        words: List[str] = re.findall(r"\S+\s*", partial)
        rest = "".join(words[-2:]) + rest
    return dataclasses.replace(step, content=rest, continues=False)
