#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""run_with_server.py [--verbose] [--] CMD ARGS...

Starts the loopback LLM test server on a free port, runs CMD with
MODELS_TEST_SERVER=http://127.0.0.1:PORT in its environment, stops the server
and exits with CMD's exit code (128+N when CMD died of signal N, 127 when CMD
cannot be started).  ctest runs the C tests through it.
"""

import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testserver import ENV_VAR, TestServer  # noqa: E402


def _interrupt(signum, frame):
    raise KeyboardInterrupt()


def main(argv: list) -> int:
    args, verbose = list(argv), False
    while args and args[0] in ("--verbose", "-h", "--help"):
        if args.pop(0) != "--verbose":
            print(__doc__.strip())
            return 0
        verbose = True
    if args and args[0] == "--":
        args.pop(0)
    if not args:
        print("usage: run_with_server.py [--verbose] [--] CMD ARGS...", file=sys.stderr)
        return 2

    # A SIGTERM (e.g. a ctest timeout) still stops CMD and the server.
    signal.signal(signal.SIGTERM, _interrupt)
    with TestServer(verbose=verbose) as server:
        env = dict(os.environ, **{ENV_VAR: server.url})
        try:
            child = subprocess.Popen(args, env=env)
        except OSError as exc:
            print("run_with_server.py: cannot run %s: %s" % (args[0], exc), file=sys.stderr)
            return 127
        try:
            code = child.wait()
        except KeyboardInterrupt:
            child.terminate()
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            return 130
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
