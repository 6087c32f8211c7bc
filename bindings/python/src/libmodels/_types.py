# SPDX-License-Identifier: Apache-2.0
"""Static types of what chat(), achat() and the streams return.

The results are plain dicts at run time (json.loads of the library's answer):
these TypedDicts only tell a type checker their keys, so that
``mypy --strict`` reports ``reply["choise"]`` and a wrong value type. They
cost nothing, and a result still goes into the openai SDK as it is:
``openai.types.chat.ChatCompletion.model_validate(reply)``.

The names are the openai SDK's (openai.types.chat). Keys a reply may lack
(usage, tool_calls, ...) are in the ``total=False`` halves: read them with
``.get()`` when a provider may leave them out.
"""

from __future__ import annotations

from typing import Any, Dict, List, Literal, Optional, TypedDict

__all__ = [
    "ChatCompletion", "Choice", "ChatCompletionMessage", "ChatCompletionMessageToolCall",
    "Function", "CompletionUsage", "ChatCompletionChunk", "ChunkChoice", "ChoiceDelta",
    "ChoiceDeltaToolCall", "ChoiceDeltaToolCallFunction",
]


class CompletionUsage(TypedDict):
    """A reply's or chunk's "usage": the provider's token counts."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class Function(TypedDict):
    """The function a tool call calls; ``arguments`` is JSON text."""

    name: str
    arguments: str


class ChatCompletionMessageToolCall(TypedDict):
    """One of a message's "tool_calls"."""

    id: str
    type: Literal["function"]
    function: Function


class _ChatCompletionMessage(TypedDict):
    role: Literal["assistant"]
    content: Optional[str]


class ChatCompletionMessage(_ChatCompletionMessage, total=False):
    """A choice's "message". ``reasoning_content`` is the model's thinking text,
    when it gave some (Anthropic extended thinking, reasoning models)."""

    tool_calls: List[ChatCompletionMessageToolCall]
    refusal: Optional[str]
    reasoning_content: str


class _Choice(TypedDict):
    index: int
    message: ChatCompletionMessage
    finish_reason: Optional[str]


class Choice(_Choice, total=False):
    """One of a reply's "choices"."""

    logprobs: Optional[Dict[str, Any]]


class _ChatCompletion(TypedDict):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: List[Choice]


class ChatCompletion(_ChatCompletion, total=False):
    """What Router.chat() and Router.achat() return: an OpenAI "chat.completion"
    whose "model" is the full name of the model that answered ("openai/gpt-4o";
    for a model group, the deployment that answered), not the provider's own
    name for it; stream chunks and Stream.model name it the same way."""

    usage: CompletionUsage
    system_fingerprint: Optional[str]
    service_tier: Optional[str]


class ChoiceDeltaToolCallFunction(TypedDict, total=False):
    """A piece of a streamed tool call's function: its name in the first piece,
    its arguments' JSON text in pieces."""

    name: str
    arguments: str


class _ChoiceDeltaToolCall(TypedDict):
    index: int


class ChoiceDeltaToolCall(_ChoiceDeltaToolCall, total=False):
    """A piece of a streamed tool call; ``index`` says which call it continues."""

    id: str
    type: Literal["function"]
    function: ChoiceDeltaToolCallFunction


class ChoiceDelta(TypedDict, total=False):
    """A chunk choice's "delta": what the chunk adds to the message."""

    role: Literal["assistant"]
    content: Optional[str]
    tool_calls: List[ChoiceDeltaToolCall]
    refusal: Optional[str]
    reasoning_content: str


class _ChunkChoice(TypedDict):
    index: int
    delta: ChoiceDelta


class ChunkChoice(_ChunkChoice, total=False):
    """One of a chunk's "choices"; ``finish_reason`` is set in the last one."""

    finish_reason: Optional[str]
    logprobs: Optional[Dict[str, Any]]


class _ChatCompletionChunk(TypedDict):
    id: str
    object: Literal["chat.completion.chunk"]
    created: int
    model: str
    choices: List[ChunkChoice]


class ChatCompletionChunk(_ChatCompletionChunk, total=False):
    """What iterating a Stream or an AsyncStream yields: an OpenAI
    "chat.completion.chunk". Every chunk has "model": the full name of the
    model that answered, as in the answer and Stream.model (the library sets
    it, and adds it to a chunk the provider sent without one). ``usage``
    comes in the chunk that reports it (Stream.usage keeps the latest counts)."""

    usage: Optional[CompletionUsage]
    system_fingerprint: Optional[str]
    service_tier: Optional[str]
