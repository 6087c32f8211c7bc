#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""CPU per chunk of a pull stream with stream_recovery "off" and "resume"
(issue 18: "resume" parses every chunk), in the client process, against the
loopback test server: a 20,000-chunk stream, each mode twice.

    LIBMODELS_PATH=build/libmodels.so.1 python3 bench/resume_cpu.py
"""

import os
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "Tests", "server"))
sys.path.insert(0, os.path.join(here, "..", "bindings", "python", "src"))

import libmodels  # noqa: E402
from testserver import TestServer  # noqa: E402

N = 20000

with TestServer() as srv:
    for mode in ("off", "resume", "off", "resume"):
        config = {"primary": "local/m", "providers": {"local": {"api_key": "k", "base_url": srv.base_url("/v1")}},
                  "stream_recovery": mode}
        with libmodels.Router(config) as router:
            srv.reset()
            srv.script("m", {"chunks": N})
            start = time.process_time()
            with router.stream(messages=[{"role": "user", "content": "hi"}]) as stream:
                for _ in stream:
                    pass
            print("%-6s %.2f us CPU per chunk (client process)" % (mode, (time.process_time() - start) / N * 1e6))
