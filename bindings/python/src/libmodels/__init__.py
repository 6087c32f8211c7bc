# SPDX-License-Identifier: Apache-2.0
"""libmodels: an in-process router for LLM chat APIs, from Python.

    import libmodels

    router = libmodels.Router({"primary": "openai/gpt-4o",
                               "fallbacks": ["anthropic/claude-sonnet-4-6"]})
    reply = router.chat(messages=[{"role": "user", "content": "hi"}], max_tokens=50)
    print(reply["choices"][0]["message"]["content"])

    with router.stream(messages=[...]) as stream:
        for chunk in stream:
            ...
        print(stream.usage, stream.model)

A thin ctypes binding of libmodels.so (include/models.h): no compiled
extension. The library is found through $LIBMODELS_PATH, then next to this
package, then the system loader; it loads on first use, and
LibraryNotFoundError says what was tried when it cannot.
"""

from __future__ import annotations

import warnings
from typing import Any, Optional

from . import _capi
from ._capi import LibraryNotFoundError
from ._cooldown import Cooldown
from ._errors import (AllModelsFailedError, AllModelsInCooldownError, APIError,
                      AuthenticationError, BadRequestError, ContentPolicyError,
                      ContextWindowExceededError, InvalidArgumentError, ModelsCancelledError,
                      ModelsError, ModelsTimeoutError, NoMemoryError, NoProviderError,
                      NotFoundError, ProtocolError, RateLimitError, ServerError, TransportError)
from ._logging import logger, set_log_handler, use_logging
from ._router import Router
from ._stream import AsyncStream, Stream, Usage
from ._types import (ChatCompletion, ChatCompletionChunk, ChatCompletionMessage,
                     ChatCompletionMessageToolCall, ChoiceDelta, ChoiceDeltaToolCall,
                     ChoiceDeltaToolCallFunction, Choice, ChunkChoice, CompletionUsage, Function)
from ._embeddings import CreateEmbeddingResponse, Embedding, EmbeddingUsage

__all__ = [
    "Router", "Stream", "AsyncStream", "Usage", "Cooldown",
    "ModelsError", "InvalidArgumentError", "NoProviderError", "APIError", "RateLimitError",
    "AuthenticationError", "NotFoundError", "ContextWindowExceededError", "ContentPolicyError",
    "BadRequestError", "ServerError", "TransportError",
    "ModelsTimeoutError", "ModelsCancelledError", "ProtocolError", "AllModelsInCooldownError",
    "AllModelsFailedError", "NoMemoryError", "LibraryNotFoundError",
    "model_id", "default_base_url", "version", "library_path",
    "set_log_handler", "use_logging", "logger",
    # Types of results, for type checkers (plain dicts at run time):
    "ChatCompletion", "Choice", "ChatCompletionMessage", "ChatCompletionMessageToolCall",
    "Function", "CompletionUsage", "ChatCompletionChunk", "ChunkChoice", "ChoiceDelta",
    "ChoiceDeltaToolCall", "ChoiceDeltaToolCallFunction",
    # What embed() and aembed() return (dicts that also read as attributes):
    "CreateEmbeddingResponse", "Embedding", "EmbeddingUsage",
]


def _install_default_logging(lib: Any) -> None:
    from ._logging import _default
    _default(lib)


_capi.on_load(_install_default_logging)


def version() -> str:
    """The library's version, "MAJOR.MINOR.PATCH" (models_version)."""
    return (_capi.load().models_version() or b"").decode()


def model_id(full_model: str) -> str:
    """The model id a provider receives for a full model name: everything after
    the first '/' ("openrouter/meta/llama-3" gives "meta/llama-3"); a name
    without '/' is returned unchanged (models_model_id)."""
    text = _capi.take_string(_capi.load().models_model_id(full_model.encode("utf-8")))
    if text is None:
        raise InvalidArgumentError("model_id: %r is not a valid model name" % (full_model,))
    return text.decode("utf-8")


def default_base_url(provider: str) -> Optional[str]:
    """The known base URL of a provider ("openai" gives "https://api.openai.com/v1"),
    or None when the name is unknown (models_default_base_url)."""
    url = _capi.load().models_default_base_url(provider.encode("utf-8"))
    return url.decode("utf-8") if url else None


def library_path() -> str:
    """Where the loaded libmodels.so came from (loads it if need be)."""
    _capi.load()
    return _capi.library_path() or ""


# Names that shadowed a builtin or asyncio's and were renamed: still importable
# (outside __all__, so `from libmodels import *` does not bring them), with a
# DeprecationWarning. To be removed before 1.0.
_DEPRECATED = {
    "TimeoutError": ("ModelsTimeoutError", ModelsTimeoutError),
    "CancelledError": ("ModelsCancelledError", ModelsCancelledError),
}


def __getattr__(name: str) -> Any:
    if name in _DEPRECATED:
        new_name, cls = _DEPRECATED[name]
        warnings.warn("libmodels.%s is deprecated; use libmodels.%s (the old name shadows "
                      "the builtin or asyncio name of the same spelling)" % (name, new_name),
                      DeprecationWarning, stacklevel=2)
        return cls
    # __version__ is the library's own version, read when first asked for, so that
    # `import libmodels` works (and can report LibraryNotFoundError) without it.
    if name == "__version__":
        value = version()
        globals()["__version__"] = value
        return value
    raise AttributeError("module 'libmodels' has no attribute %r" % (name,))
