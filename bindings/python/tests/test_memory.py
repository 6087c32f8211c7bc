# SPDX-License-Identifier: Apache-2.0
"""No memory growth over 10,000 chat calls (and 1,000 streams)."""

from __future__ import annotations

import gc
import os

import libmodels
from lmtest import openai_config, user


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_no_growth_over_10000_chats(srv):
    messages = user("memory check")
    with libmodels.Router(openai_config(srv)) as router:
        for _ in range(500):  # warm up: connection, caches, allocator arenas
            router.chat(messages=messages)
        gc.collect()
        before = rss_bytes()
        for _ in range(10_000):
            router.chat(messages=messages)
        for _ in range(500):
            with router.stream(messages=messages) as stream:
                for _ in stream:
                    pass
        gc.collect()
        grown = rss_bytes() - before
    # A leak of one response string per call would be well over 2 MB.
    assert grown < 8 * 1024 * 1024, "RSS grew by %d KiB" % (grown // 1024)
