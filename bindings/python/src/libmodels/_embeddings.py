# SPDX-License-Identifier: Apache-2.0
"""What embed() and aembed() return: the OpenAI embeddings answer as dicts that
also read like the openai SDK's objects (``resp.data[0].embedding``,
``resp.usage.prompt_tokens``), so code written for
``openai.types.CreateEmbeddingResponse`` works unchanged, and
``CreateEmbeddingResponse.model_validate(resp)`` accepts it as it is."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Union

__all__ = ["CreateEmbeddingResponse", "Embedding", "EmbeddingUsage"]


class _Object(Dict[str, Any]):
    """A dict whose keys also read as attributes (a missing one raises AttributeError)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError("%s has no %r" % (type(self).__name__, name)) from None

    def model_dump(self) -> Dict[str, Any]:
        """A plain dict (deep), as pydantic's model_dump gives."""
        return _plain(self)  # type: ignore[no-any-return]

    def to_dict(self) -> Dict[str, Any]:
        return self.model_dump()


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class Embedding(_Object):
    """One vector: ``embedding`` (a list of floats, or a base64 string when the
    request asked for ``encoding_format="base64"``), ``index``, ``object``."""

    __slots__ = ()
    embedding: Union[List[float], str]
    index: int
    object: str


class EmbeddingUsage(_Object):
    """The tokens the inputs used."""

    __slots__ = ()
    prompt_tokens: int
    total_tokens: int


class CreateEmbeddingResponse(_Object):
    """The answer: ``data`` (one Embedding per input, in order), ``model`` (the
    full name of the model that answered, ``"openai/text-embedding-3-small"``),
    ``object`` (``"list"``) and ``usage``."""

    __slots__ = ()
    data: List[Embedding]
    model: str
    object: str
    usage: Optional[EmbeddingUsage]

    @classmethod
    def from_answer(cls, answer: Dict[str, Any]) -> "CreateEmbeddingResponse":
        out = cls(answer)
        data = answer.get("data")
        if isinstance(data, list):
            out["data"] = [Embedding(item) if isinstance(item, dict) else item for item in data]
        usage = answer.get("usage")
        if isinstance(usage, dict):
            out["usage"] = EmbeddingUsage(usage)
        return out
