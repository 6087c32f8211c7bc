# SPDX-License-Identifier: Apache-2.0
"""The static types of results: mypy --strict accepts ordinary use of chat(),
achat() and the streams, and reports a misspelled key of a reply, a message, a
chunk or a usage. Needs mypy (pip install mypy); skipped without it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import libmodels

pytest.importorskip("mypy", reason="mypy is not installed in this Python (pip install mypy): "
                                   "the typing of libmodels' results is not checked")

GOOD = '''
from typing import Any, List, Optional

import libmodels
from libmodels import ChatCompletion, ChatCompletionChunk, CompletionUsage


def answer(router: libmodels.Router) -> Optional[str]:
    reply: ChatCompletion = router.chat(messages=[{"role": "user", "content": "hi"}], max_tokens=5)
    choice = reply["choices"][0]
    content: Optional[str] = choice["message"]["content"]
    for call in choice["message"].get("tool_calls", []):
        name: str = call["function"]["name"]
        arguments: str = call["function"]["arguments"]
    finish: Optional[str] = choice["finish_reason"]
    usage: Optional[CompletionUsage] = reply.get("usage")
    if usage is not None:
        total: int = usage["prompt_tokens"] + usage["completion_tokens"] + usage["total_tokens"]
    model: str = reply["model"]
    return content


def stream(router: libmodels.Router) -> List[str]:
    pieces: List[str] = []
    with router.stream(messages=[{"role": "user", "content": "hi"}]) as s:
        for chunk in s:
            for choice in chunk["choices"]:
                text = choice["delta"].get("content")
                if text:
                    pieces.append(text)
            chunk_usage = chunk.get("usage")
            if chunk_usage:
                pieces.append(str(chunk_usage["total_tokens"]))
        counts: int = s.usage.prompt_tokens + s.usage.completion_tokens + s.usage.total_tokens
    return pieces


async def later(router: libmodels.Router) -> str:
    reply = await router.achat(messages=[{"role": "user", "content": "hi"}])
    chunks: List[ChatCompletionChunk] = []
    async with router.astream(messages=[{"role": "user", "content": "hi"}]) as s:
        async for chunk in s:
            chunks.append(chunk)
    as_dict: Any = dict(reply)
    return reply["id"] + chunks[0]["id"]


def vectors(router: libmodels.Router) -> List[float]:
    resp: libmodels.CreateEmbeddingResponse = router.embed(input=["a"], model="local/e", dimensions=4)
    vector = resp.data[0].embedding
    tokens: int = resp.usage.prompt_tokens if resp.usage is not None else 0
    model: str = resp.model + resp["model"]
    return vector if isinstance(vector, list) else []
'''

BAD = '''
import libmodels


def answer(router: libmodels.Router) -> None:
    reply = router.chat(messages=[{"role": "user", "content": "hi"}])
    print(reply["choise"])
    print(reply["choices"][0]["mesage"])
    length: int = reply["choices"][0]["message"]["content"]
    with router.stream(messages=[{"role": "user", "content": "hi"}]) as s:
        for chunk in s:
            print(chunk["choices"][0]["detla"])


async def later(router: libmodels.Router) -> None:
    reply = await router.achat(messages=[{"role": "user", "content": "hi"}])
    print(reply["usage"]["input_tokens"])
'''


def run_mypy(tmp_path: Path, *files: Path) -> str:
    env = dict(os.environ)
    package_parent = Path(libmodels.__file__).resolve().parent.parent
    if package_parent.name == "src":  # testing the checkout, not an installed copy
        env["MYPYPATH"] = str(package_parent)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--show-error-codes",
         "--cache-dir", str(tmp_path / "cache"), *map(str, files)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert "error: Cannot find implementation or library stub" not in result.stdout, result.stdout
    return result.stdout + result.stderr


def test_mypy_strict_accepts_ordinary_use_and_reports_misspelled_keys(tmp_path):
    good, bad = tmp_path / "good.py", tmp_path / "bad.py"
    good.write_text(textwrap.dedent(GOOD))
    bad.write_text(textwrap.dedent(BAD))
    output = run_mypy(tmp_path, good, bad)
    good_errors = [line for line in output.splitlines() if line.startswith("good.py")]
    assert good_errors == [], output
    bad_errors = [line for line in output.splitlines()
                  if line.startswith("bad.py") and ": error: " in line]
    for key in ("choise", "mesage", "detla", "input_tokens"):
        assert any('"%s"' % key in line and "typeddict" in line for line in bad_errors), output
    assert any(":9: error: Incompatible types in assignment" in line for line in bad_errors), output
    assert len(bad_errors) == 5, output
