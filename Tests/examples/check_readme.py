#!/usr/bin/env python3
"""check_readme.py {c|python} --readme README.md --library libmodels.so --include DIR

Takes the README's quick start in C (the ```c block under "## Quick start: C")
or in Python (the ```python block under "## Quick start: Python") and runs it,
as written, against the loopback test server named by $MODELS_TEST_SERVER.
Only the router config changes: the test keeps the snippet's primary and
fallbacks and adds "providers" pointing them at the server. It checks the
answer, then makes the primary fail and checks that the fallback answers.

The snippet must stay under 20 lines: a quick start is short.
"""

import argparse
import ast
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))
from testserver import TestServer  # noqa: E402

MAX_LINES = 20


def fail(message, out="", err=""):
    sys.exit("FAILED: %s\n--- stdout\n%s--- stderr\n%s" % (message, out, err))


def snippet(readme, heading, language):
    """The first ```language block after `heading`."""
    text = open(readme, encoding="utf-8").read()
    start = text.find("\n" + heading + "\n")
    if start < 0:
        fail("README has no %r section" % heading)
    match = re.search(r"^```%s\n(.*?)^```" % language, text[start:], re.S | re.M)
    if not match:
        fail("no ```%s block under %r" % (language, heading))
    code = match.group(1)
    if code.count("\n") >= MAX_LINES:
        fail("the %s quick start has %d lines; keep it under %d" % (language, code.count("\n"), MAX_LINES))
    return code


def point_at_server(config, server):
    """The snippet's config, with each provider it uses served by the test server."""
    providers = {}
    for model in [config["primary"]] + config.get("fallbacks", []):
        provider = model.split("/", 1)[0]
        prefix = "/anthropic/v1" if provider == "anthropic" else "/v1"
        providers[provider] = {"base_url": server.base_url(prefix), "api_key": "readme-key"}
    return dict(config, providers=providers, max_retries=0)


def c_literal(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def prepare_c(code, server, workdir, args):
    # The config is the string literal passed to models_router_new().
    match = re.search(r'models_router_new\(\s*"((?:[^"\\]|\\.)*)"', code)
    if not match:
        fail("the C quick start has no literal config passed to models_router_new()")
    config = json.loads(match.group(1).encode().decode("unicode_escape"))
    code = code[:match.start(1) - 1] + c_literal(json.dumps(point_at_server(config, server))) + code[match.end(1) + 1:]
    source, binary = os.path.join(workdir, "quickstart.c"), os.path.join(workdir, "quickstart")
    with open(source, "w") as f:
        f.write(code)
    libdir = os.path.dirname(os.path.abspath(args.library))
    build = ["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", source, "-o", binary, "-I", args.include,
             "-L", libdir, "-lmodels", "-Wl,-rpath," + libdir]
    proc = subprocess.run(build, capture_output=True, text=True)
    if proc.returncode != 0:
        fail("the C quick start does not compile with -Wall -Wextra -Werror", proc.stdout, proc.stderr)
    return [binary], dict(os.environ), config


def prepare_python(code, server, workdir, args):
    # The config is the dict literal passed to libmodels.Router().
    match = re.search(r"libmodels\.Router\((\{.*?\})\)\n", code)
    if not match:
        fail("the Python quick start has no literal config passed to libmodels.Router()")
    config = ast.literal_eval(match.group(1))
    code = code[:match.start(1)] + repr(point_at_server(config, server)) + code[match.end(1):]
    script = os.path.join(workdir, "quickstart.py")
    with open(script, "w") as f:
        f.write(code)
    binding = os.path.join(os.path.dirname(os.path.abspath(args.readme)), "bindings", "python", "src")
    env = dict(os.environ, LIBMODELS_PATH=os.path.abspath(args.library),
               PYTHONPATH=os.pathsep.join(filter(None, [binding, os.environ.get("PYTHONPATH")])))
    return [sys.executable, script], env, config


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("language", choices=["c", "python"])
    parser.add_argument("--readme", required=True)
    parser.add_argument("--library", required=True)
    parser.add_argument("--include", required=True)
    args = parser.parse_args()
    heading = "## Quick start: C" if args.language == "c" else "## Quick start: Python"
    code = snippet(args.readme, heading, args.language)

    with TestServer.from_env() as server, tempfile.TemporaryDirectory() as workdir:
        server.reset()
        prepare = prepare_c if args.language == "c" else prepare_python
        command, env, config = prepare(code, server, workdir, args)
        primary_id = config["primary"].split("/", 1)[-1]

        # 1. The primary answers.
        proc = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
        if proc.returncode != 0 or "echo: Hello!" not in proc.stdout:
            fail("the %s quick start did not print the answer" % args.language, proc.stdout, proc.stderr)
        first = server.requests()
        if not first or first[0]["path"] != "/v1/chat/completions":
            fail("the quick start did not ask its primary first", str(first))

        # 2. The primary fails (a 503 for every request): the fallback answers.
        server.reset()
        server.script(primary_id, *[{"status": 503}] * 4)
        proc = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
        if proc.returncode != 0 or "echo: Hello!" not in proc.stdout:
            fail("the %s quick start did not fall back" % args.language, proc.stdout, proc.stderr)
        if not any(r["path"] == "/anthropic/v1/messages" for r in server.requests()):
            fail("the fallback was not asked through the Anthropic API", str(server.requests()))
    print("README %s quick start: ok" % args.language)


if __name__ == "__main__":
    main()
