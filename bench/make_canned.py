#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the canned answers the benchmark's nginx serves.

    make_canned.py DIR [CHUNKS]

DIR/chat.json    one chat.completion object (the models_chat answer)
DIR/stream.sse   CHUNKS (default 10,000) `data:` events of about 170 bytes each,
                 in the chat.completion.chunk shape: a role chunk, content
                 chunks, a finish chunk and a usage chunk, then `data: [DONE]`.

Content is deterministic so runs are comparable.
"""
import json
import os
import sys

CREATED = 1700000000
MODEL = "gpt-bench"


def chunk(i, delta, finish=None, usage=None, choices=True):
    obj = {
        "id": "chatcmpl-bench01",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if choices else [],
    }
    if usage is not None:
        obj["usage"] = usage
    return json.dumps(obj, separators=(",", ":"))


def words(i):
    # Varied token text of 4 to 9 bytes, as a real stream has.
    return "w%05d " % i if i % 3 else "tok%d " % i


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    os.makedirs(out, exist_ok=True)
    lines = [chunk(0, {"role": "assistant", "content": ""})]
    for i in range(1, n - 2):
        lines.append(chunk(i, {"content": words(i)}))
    lines.append(chunk(n - 2, {}, finish="stop"))
    lines.append(chunk(n - 1, {}, choices=False,
                       usage={"prompt_tokens": 12, "completion_tokens": n - 3, "total_tokens": n + 9}))
    with open(os.path.join(out, "stream.sse"), "w") as f:
        for line in lines:
            f.write("data: " + line + "\n\n")
        f.write("data: [DONE]\n\n")
    answer = {
        "id": "chatcmpl-bench0000000000000001",
        "object": "chat.completion",
        "created": CREATED,
        "model": MODEL,
        "system_fingerprint": "fp_bench01",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": "Hello! This is a canned answer from the benchmark server.",
                        "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }],
        "usage": {"prompt_tokens": 12, "completion_tokens": 13, "total_tokens": 25},
    }
    with open(os.path.join(out, "chat.json"), "w") as f:
        f.write(json.dumps(answer, separators=(",", ":")))
    mean = sum(len(l) for l in lines) / len(lines)
    print("canned: %d chunks, %.0f bytes of JSON each on average" % (len(lines), mean))


if __name__ == "__main__":
    main()
