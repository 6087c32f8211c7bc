# SPDX-License-Identifier: Apache-2.0
"""Ctrl-C (SIGINT) interrupts a blocking chat() or stream promptly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import libmodels
from lmtest import openai_config

CHILD = r"""
import json, signal, sys, time, libmodels
router = libmodels.Router(json.loads(sys.argv[1]))
messages = [{"role": "user", "content": "x"}]
if sys.argv[3] == "own-handler":  # a handler of the program's that raises
    def handler(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGINT, handler)
try:
    if sys.argv[2] == "chat":
        router.chat(messages=messages)
    else:
        for chunk in router.stream(messages=messages):
            print("chunk", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    raise
print("returned", flush=True)
"""


def child_env():
    env = dict(os.environ)
    package_root = str(Path(libmodels.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    env["LIBMODELS_PATH"] = libmodels.library_path()
    return env


@pytest.mark.parametrize("mode,step,handler", [
    ("chat", {"hang": True}, "default"),
    ("stream", {"chunks": 10, "stall_after": 2}, "default"),
    ("chat", {"hang": True}, "own-handler"),
    ("stream", {"chunks": 10, "stall_after": 2}, "own-handler"),
])
def test_sigint_interrupts_promptly(srv, mode, step, handler):
    srv.script("m1", step)
    config = openai_config(srv, timeout_ms=60000)
    proc = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(config), mode, handler],
                            env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while srv.stats()["requests"] < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert srv.stats()["requests"] == 1, "the child never reached the server"
        time.sleep(0.2)  # let it settle into the wait (or the stall)
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        out, err = proc.communicate(timeout=5)
        elapsed = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert elapsed < 1.5, "took %.2fs to stop" % elapsed
    assert b"interrupted" in out and b"returned" not in out
    assert b"KeyboardInterrupt" in err
    assert proc.returncode in (-signal.SIGINT, 128 + signal.SIGINT, 1)


GENTLE = r"""
import json, signal, sys, libmodels
router = libmodels.Router(json.loads(sys.argv[1]))
seen = []
signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
print("calling", flush=True)
reply = router.chat(messages=[{"role": "user", "content": "x"}])
print("handled", len(seen), reply["choices"][0]["message"]["content"], flush=True)
"""


def test_a_handler_that_does_not_raise_lets_the_call_finish(srv):
    """A program's own SIGINT handler runs during the call, and the call goes on."""
    srv.script("m1", {"delay_ms": 800})
    proc = subprocess.Popen([sys.executable, "-c", GENTLE, json.dumps(openai_config(srv))],
                            env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while srv.stats()["requests"] < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert b"handled 1 echo: x" in out
