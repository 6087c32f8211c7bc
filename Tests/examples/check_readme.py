#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""check_readme.py {c|python} --readme README.md --library libmodels.so --include DIR
check_readme.py {c|python} --readme README.md --installed [--python PY] [--expect-library-under DIR]

Takes the README's quick start in C (the ```c block under "## Quick start: C")
or in Python (the ```python block under "## Quick start: Python") and runs it,
as written, against the loopback test server named by $MODELS_TEST_SERVER.
Only the router config changes: the test keeps the snippet's primary and
fallbacks and adds "providers" pointing them at the server. It checks the
answer, then makes the primary fail and checks that the fallback answers.

With --installed the snippet runs as a user of an installed libmodels would
run it: C compiled with `pkg-config --cflags --libs models` alone, Python with
the interpreter --python (a venv with the wheel, the system python3 with the
Debian package) and neither PYTHONPATH nor LIBMODELS_PATH.
--expect-library-under DIR then checks that the libmodels.so.1 it loaded is
under DIR (and not, say, a copy in build/).

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
    if args.installed:
        proc = subprocess.run(["pkg-config", "--cflags", "--libs", "models"], capture_output=True, text=True)
        if proc.returncode != 0:
            fail("pkg-config does not know models", proc.stdout, proc.stderr)
        flags = proc.stdout.split()
    else:
        libdir = os.path.dirname(os.path.abspath(args.library))
        flags = ["-I", args.include, "-L", libdir, "-lmodels", "-Wl,-rpath," + libdir]
    build = ["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", source, "-o", binary] + flags
    proc = subprocess.run(build, capture_output=True, text=True)
    if proc.returncode != 0:
        fail("the C quick start does not compile with -Wall -Wextra -Werror", proc.stdout, proc.stderr)
    env = dict(os.environ)
    if args.installed:
        env.pop("LD_LIBRARY_PATH", None)
    return [binary], env, config


def loaded_library(language, command, env):
    """The libmodels.so.1 file the quick start loads."""
    if language == "c":
        proc = subprocess.run(["ldd", command[0]], capture_output=True, text=True, env=env)
        match = re.search(r"libmodels\.so\.1 => (\S+)", proc.stdout)
        return match.group(1) if match else "(not found: %s)" % proc.stdout
    # library_path() may be a bare name (the system loader's); the mapped file is the truth.
    probe = ("import libmodels; libmodels.version()\n"
             "print([l.split()[-1] for l in open('/proc/self/maps') if '/libmodels.so' in l][0])")
    proc = subprocess.run([command[0], "-c", probe], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        fail("libmodels does not load", proc.stdout, proc.stderr)
    return proc.stdout.strip()


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
    if args.installed:
        env = {k: v for k, v in os.environ.items() if k not in ("LIBMODELS_PATH", "PYTHONPATH", "LD_LIBRARY_PATH")}
        return [args.python, script], env, config
    binding = os.path.join(os.path.dirname(os.path.abspath(args.readme)), "bindings", "python", "src")
    env = dict(os.environ, LIBMODELS_PATH=os.path.abspath(args.library),
               PYTHONPATH=os.pathsep.join(filter(None, [binding, os.environ.get("PYTHONPATH")])))
    return [args.python, script], env, config


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("language", choices=["c", "python"])
    parser.add_argument("--readme", required=True)
    parser.add_argument("--library")
    parser.add_argument("--include")
    parser.add_argument("--installed", action="store_true")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--expect-library-under")
    args = parser.parse_args()
    if not args.installed and not (args.library and args.include):
        parser.error("--library and --include are needed without --installed")
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

        # 3. The library it ran with.
        if args.expect_library_under:
            loaded = os.path.realpath(loaded_library(args.language, command, env))
            under = os.path.realpath(args.expect_library_under)
            if not loaded.startswith(under + os.sep):
                fail("the %s quick start loaded %s, not a libmodels under %s" % (args.language, loaded, under))
            print("README %s quick start: libmodels from %s" % (args.language, loaded))
    print("README %s quick start: ok" % args.language)


if __name__ == "__main__":
    main()
