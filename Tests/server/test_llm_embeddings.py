# SPDX-License-Identifier: Apache-2.0
"""The test server's embeddings route (llm_embeddings.py): deterministic
vectors of unit length, dimensions, base64, token inputs, usage, Azure's
path, and scripted steps."""

import base64
import json
import math
import struct
import sys
import os
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testserver import TestServer  # noqa: E402


@pytest.fixture(scope="module")
def srv():
    with TestServer() as server:
        yield server


@pytest.fixture(autouse=True)
def fresh(srv):
    srv.reset()
    yield


def post(srv, path, body):
    request = urllib.request.Request(srv.url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_vectors_are_deterministic_unit_vectors(srv):
    status, body = post(srv, "/v1/embeddings", {"model": "e", "input": ["a b", "c"]})
    assert status == 200 and body["object"] == "list" and body["model"] == "e"
    assert [d["index"] for d in body["data"]] == [0, 1]
    for d in body["data"]:
        assert d["object"] == "embedding" and len(d["embedding"]) == 8
        assert abs(math.sqrt(sum(x * x for x in d["embedding"])) - 1) < 1e-5
    assert body["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    _, again = post(srv, "/v1/embeddings", {"model": "e", "input": "a b"})
    assert again["data"][0]["embedding"] == body["data"][0]["embedding"]
    assert body["data"][0]["embedding"] != body["data"][1]["embedding"]


def test_dimensions_base64_tokens(srv):
    _, floats = post(srv, "/v1/embeddings", {"input": "x", "dimensions": 3})
    assert len(floats["data"][0]["embedding"]) == 3
    _, b64 = post(srv, "/v1/embeddings", {"input": "x", "dimensions": 3, "encoding_format": "base64"})
    assert list(struct.unpack("<3f", base64.b64decode(b64["data"][0]["embedding"]))) == floats["data"][0]["embedding"]
    _, tokens = post(srv, "/v1/embeddings", {"input": [1, 2, 3]})
    assert len(tokens["data"]) == 1 and tokens["usage"]["prompt_tokens"] == 3
    _, batch = post(srv, "/v1/embeddings", {"input": [[1, 2], [3]]})
    assert len(batch["data"]) == 2 and batch["usage"]["prompt_tokens"] == 3


def test_azure_path_and_scripts(srv):
    status, body = post(srv, "/openai/deployments/dep/embeddings?api-version=2024-10-21", {"input": "x", "model": "dep"})
    assert status == 200 and len(body["data"]) == 1
    srv.script("dep", {"status": 429, "headers": {"Retry-After": "1"}}, {"usage": {"prompt_tokens": 99}})
    status, body = post(srv, "/v1/embeddings", {"input": "x", "model": "dep"})
    assert status == 429 and "error" in body
    status, body = post(srv, "/v1/embeddings", {"input": "x", "model": "dep"})
    assert status == 200 and body["usage"]["prompt_tokens"] == 99
    assert [r["path"] for r in srv.requests()][-1] == "/v1/embeddings"
