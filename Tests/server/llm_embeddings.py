# SPDX-License-Identifier: Apache-2.0
"""The embeddings wire format of the loopback test server (OpenAI
`POST .../embeddings`, Azure's deployment path included): deterministic
vectors derived from a hash of each input, with usage. Standard library only.

Each vector has `dimensions` numbers (default DEFAULT_DIMENSIONS), derived
from SHA-256 of the input (a string's UTF-8 bytes, or the tokens as compact
JSON), scaled to unit length. `"encoding_format": "base64"` gives the same
numbers as little-endian float32, base64-encoded. Usage: prompt tokens are
the words of every string plus the tokens of every token array; a scripted
step's "usage" overrides them.
"""

import base64
import hashlib
import json
import math
import struct
from typing import Any, Dict, List, Optional

DEFAULT_DIMENSIONS = 8
MAX_DIMENSIONS = 4096


def inputs_of(request: Dict[str, Any]) -> List[Any]:
    """The request's inputs, one per vector: a string, or a list of tokens."""
    value = request.get("input")
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        if value and all(isinstance(t, int) for t in value):
            return [value]
        return list(value)
    return []


def vector(item: Any, dimensions: int) -> List[float]:
    """The vector of one input: the same input and dimensions give the same numbers."""
    seed = item.encode("utf-8") if isinstance(item, str) else json.dumps(item, separators=(",", ":")).encode()
    raw: List[float] = []
    block = 0
    while len(raw) < dimensions:
        digest = hashlib.sha256(seed + b"#" + str(block).encode()).digest()
        for i in range(0, len(digest), 4):
            (n,) = struct.unpack("<I", digest[i:i + 4])
            raw.append(n / 2147483648.0 - 1.0)
        block += 1
    raw = raw[:dimensions]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    # Rounded through float32, so a float answer and a base64 one hold the same numbers.
    return [struct.unpack("<f", struct.pack("<f", x / norm))[0] for x in raw]


def tokens_of(item: Any) -> int:
    return len(item.split()) if isinstance(item, str) else len(item) if isinstance(item, list) else 0


def response(request: Dict[str, Any], usage_override: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    dims = request.get("dimensions")
    dims = dims if isinstance(dims, int) and not isinstance(dims, bool) and 0 < dims <= MAX_DIMENSIONS else DEFAULT_DIMENSIONS
    as_base64 = request.get("encoding_format") == "base64"
    data = []
    prompt = 0
    for index, item in enumerate(inputs_of(request)):
        numbers = vector(item, dims)
        embedding: Any = numbers
        if as_base64:
            embedding = base64.b64encode(struct.pack("<%df" % len(numbers), *numbers)).decode("ascii")
        data.append({"object": "embedding", "index": index, "embedding": embedding})
        prompt += tokens_of(item)
    usage: Dict[str, Any] = {"prompt_tokens": prompt, "total_tokens": prompt}
    usage.update(usage_override or {})
    return {"object": "list", "data": data, "model": request.get("model"), "usage": usage}
