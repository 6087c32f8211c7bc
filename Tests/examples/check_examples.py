#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""check_examples.py NAME BINARY

Runs one C example (bindings/c/examples) against the loopback test server named
by $MODELS_TEST_SERVER (run_with_server.py sets it), scripting the server where
the example needs it, and checks what the example printed and what the server
received.  Exits 0 when every check holds.
"""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))
from testserver import TestServer  # noqa: E402

TIMEOUT = 30


def run(binary, *args, env=None):
    proc = subprocess.run([binary, *args], capture_output=True, text=True, timeout=TIMEOUT,
                          env=env if env is not None else os.environ)
    return proc.returncode, proc.stdout, proc.stderr


def expect(condition, what, out="", err=""):
    if not condition:
        sys.exit("FAILED: %s\n--- stdout\n%s--- stderr\n%s" % (what, out, err))


def check_version(server, binary):
    code, out, err = run(binary)
    expect(code == 0 and out.startswith("libmodels 0."), "version prints the version", out, err)
    expect("config rejected" in out and "apikey" in out, "a typo in a key is reported by name", out, err)


def check_chat(server, binary):
    code, out, err = run(binary, "hello there")
    expect(code == 0, "chat exits 0", out, err)
    expect("echo: hello there" in out, "chat prints the answer", out, err)
    expect("-- openai/gpt-4o-mini, 2 prompt + 3 completion tokens" in out, "chat prints model and usage", out, err)
    sent = server.requests()[-1]
    expect(sent["path"] == "/v1/chat/completions", "chat posts to /v1/chat/completions", str(sent))
    expect(sent["headers"]["authorization"] == "Bearer test-key", "chat sends the configured key", str(sent))
    expect(sent["body"]["messages"] == [{"role": "user", "content": "hello there"}], "prompt sent as JSON", str(sent))

    # A rejected key: not retried, and the message says what to check.
    server.script("gpt-4o-mini", {"status": 401})
    code, out, err = run(binary, "hi")
    expect(code == 1, "chat exits 1 on a 401", out, err)
    expect("MODELS_ERR_API" in err and "HTTP 401: check the API key" in err, "chat explains a 401", out, err)
    expect("test-key" not in err, "the key never appears in the message", out, err)


def check_stream(server, binary):
    server.script("claude-sonnet-4-6", {"thinking": "Streams are nice.", "content": "Water finds its way"})
    code, out, err = run(binary)
    expect(code == 0, "stream exits 0", out, err)
    expect("Water finds its way" in out, "stream prints the text", out, err)
    expect("Streams are nice." in err, "stream prints thinking on stderr", out, err)
    expect("Streams are nice." not in out, "thinking stays off stdout", out, err)
    expect("-- " in out and "prompt +" in out, "stream prints the usage", out, err)
    sent = server.requests()[-1]
    expect(sent["path"] == "/anthropic/v1/messages", "stream speaks the Anthropic wire format", str(sent))
    expect(sent["headers"].get("x-api-key") == "test-key", "Anthropic key header", str(sent))
    expect(sent["body"].get("thinking", {}).get("budget_tokens") == 1024, "thinking budget sent", str(sent))


def check_pull(server, binary):
    code, out, err = run(binary, "one two three")
    expect(code == 0, "pull exits 0", out, err)
    expect("echo: one two three" in out, "pull prints the streamed text", out, err)
    expect("-- openai/gpt-4o-mini, 3 prompt + 4 completion tokens" in out, "pull prints model and usage", out, err)


def check_pull_interrupted(server, binary):
    # A slow stream: 200 words, 50 ms apart (10 s). SIGINT after the first words.
    server.script("gpt-4o-mini", {"chunks": 200, "event_delay_ms": 50})
    proc = subprocess.Popen([binary], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.read(2)  # blocks until the stream has started
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        sys.exit("FAILED: pull did not stop after SIGINT")
    elapsed = time.monotonic() - started
    out = first + out
    expect(proc.returncode == 130, "pull exits 130 when interrupted (got %s)" % proc.returncode, out, err)
    expect("interrupted: request cancelled" in err, "pull says it was cancelled", out, err)
    expect("w199" not in out, "the stream stopped early", out, err)
    expect(elapsed < 2, "pull stopped promptly (%.2f s)" % elapsed, out, err)


def check_fallback(server, binary):
    code, out, err = run(binary)
    expect(code == 0, "fallback exits 0", out, err)
    expect(err.count("flaky/gpt-4o-mini: attempt") == 3, "three attempts at the primary", out, err)
    expect("retrying in" in err, "the retries are logged", out, err)
    expect("cooling flaky/gpt-4o-mini down for 30s" in err, "the primary cools down", out, err)
    expect("falling back to anthropic/claude-haiku-4-5" in err, "the fallback is logged", out, err)
    expect("anthropic/claude-haiku-4-5 answered: echo: Name a colour." in out, "the fallback answers", out, err)
    expect("anthropic/claude-haiku-4-5 answered: echo: Name a fruit." in out, "the second request answers", out, err)
    rows = [line.split() for line in out.splitlines() if line.startswith("flaky/")]
    expect(len(rows) == 1 and rows[0][2] == "no" and " ".join(rows[0][3:]).startswith("cooldown ("),
           "health shows the primary cooling down", out, err)
    expect(err.count("attempt") == 3, "the second request skipped the primary", out, err)
    sent = server.requests()
    expect([r["path"] for r in sent] == ["/anthropic/v1/messages"] * 2, "two Anthropic requests", str(sent))


def check_provider(server, binary):
    code, out, err = run(binary)
    expect(code == 0, "provider exits 0", out, err)
    expect("chat:   HELLO FROM A PROVIDER WRITTEN IN C (from local/shout)" in out, "C provider answers", out, err)
    expect("stream: [HELLO ][FROM ][A ][PROVIDER ][WRITTEN ][IN ][C]" in out, "C provider streams", out, err)
    expect("shout is warming up" in err and "retrying in" in err, "its 503 is retried", out, err)
    expect("released the provider after 2 calls" in out, "the router releases the provider", out, err)
    expect(server.requests() == [], "no network involved", out, err)


def check_many(server, binary):
    code, out, err = run(binary, "500")
    expect(code == 0, "many exits 0", out, err)
    expect("500 streams started" in out, "many starts every stream", out, err)
    # Each default answer "echo: count to ten, stream N" comes in 9 chunks (a role chunk, the words, a finish chunk).
    expect("500 answered, 0 failed, 4500 chunks" in out, "many gets every chunk of every stream", out, err)
    expect(server.stats()["requests"] == 500, "one request per stream", out, err)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip())
    name, binary = sys.argv[1], sys.argv[2]
    check = globals().get("check_" + name)
    if check is None:
        sys.exit("unknown example: %s" % name)
    with TestServer.from_env() as server:
        server.reset()
        check(server, binary)
    print("example %s: ok" % name)


if __name__ == "__main__":
    main()
