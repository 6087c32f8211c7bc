#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Tokens paid twice per break with stream_recovery "resume" (issue 18).

Against the loopback test server, whose token counts are words: a prompt of
PROMPT words, an answer of ANSWER words, the stream reset after 10 %, 50 % and
90 % of the answer and resumed once. Prints, per wire format and break point,
the summed usage of the resumed stream against an unbroken one: the extra
prompt tokens (the prompt sent again plus the delivered text as prefill /
prefix / assistant message) and the extra completion tokens (what the broken
attempt reported; the instruction form's repeated words).

    LIBMODELS_PATH=build/libmodels.so.1 python3 bench/resume_tokens.py
"""

import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "Tests", "server"))
sys.path.insert(0, os.path.join(here, "..", "bindings", "python", "src"))

import libmodels  # noqa: E402
from testserver import TestServer  # noqa: E402

PROMPT, ANSWER = 200, 400


def attempt_usage(chunks):
    """The resumed attempt's own usage: the last chunk before the summary that carries one."""
    for c in reversed(chunks[:-1]):
        if c.get("usage"):
            return c["usage"]["prompt_tokens"], c["usage"]["completion_tokens"]
    raise AssertionError("no usage")


def main() -> None:
    prompt = " ".join("p%d" % i for i in range(PROMPT))
    answer = " ".join("w%d" % i for i in range(ANSWER))
    with TestServer() as srv:
        wires = {
            "openai (instruction)": ("local/m", "m", 1, {"local": {"api_key": "k", "base_url": srv.base_url("/v1")}}),
            "openai (prefix)": ("deepseek/m", "m", 1, {"deepseek": {"api_key": "k", "base_url": srv.base_url("/v1")}}),
            "anthropic (prefill)": ("anthropic/m", "m", 3, {"anthropic": {"api_key": "k", "base_url": srv.base_url("/v1")}}),
        }
        print("billed tokens (input + output); unbroken: %d + %d" % (PROMPT, ANSWER))
        print("%-22s %6s %16s %16s %18s %18s" % ("wire", "break", "attempt 1", "attempt 2", "extra (resume)",
                                                   "extra (restart)"))
        for name, (primary, model, first_event, providers) in wires.items():
            config = {"primary": primary, "providers": providers, "stream_recovery": "resume", "retry_base_ms": 1}
            with libmodels.Router(config) as router:
                for share in (0.1, 0.5, 0.9):
                    srv.reset()
                    delivered = int(ANSWER * share)
                    srv.script(model, {"content": answer, "break_after": first_event + delivered, "break_mode": "reset"},
                               {"content": answer, "continues": True})
                    with router.stream(messages=[{"role": "user", "content": prompt}],
                                       stream_options={"include_usage": True}) as s:
                        chunks = list(s)
                    assert s.text == answer and s.resumes == 1
                    # Attempt 1 as the provider bills it: the prompt, and the words it sent before the break.
                    a1 = (PROMPT, delivered)
                    a2 = attempt_usage(chunks)
                    extra = (a1[0] + a2[0] - PROMPT, a1[1] + a2[1] - ANSWER)
                    restart = (PROMPT, delivered)  # the caller starts again: the whole prompt and answer once more
                    print("%-22s %5d%% %7d + %6d %7d + %6d %9d + %6d %9d + %6d" % (
                        name, share * 100, a1[0], a1[1], a2[0], a2[1], extra[0], extra[1], restart[0], restart[1]))


if __name__ == "__main__":
    main()
