#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""check_models_chat.py CASE BINARY

Checks one group of models-chat behaviours against the loopback test server
named by $MODELS_TEST_SERVER (run_with_server.py sets it): the command line,
config errors, the router built from the environment, the request it sends,
fallbacks with the health table, the exit status of each failure kind, and
Ctrl-C.  Exits 0 when every check holds.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))
from testserver import TestServer  # noqa: E402

TIMEOUT = 30
KEY_VARIABLES = ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GITHUB_TOKEN", "GEMINI_API_KEY", "GROQ_API_KEY",
                 "MISTRAL_API_KEY", "OPENROUTER_API_KEY", "TOGETHER_API_KEY", "FIREWORKS_API_KEY",
                 "PERPLEXITY_API_KEY"]


def clean_env(**extra):
    """The environment without any API key, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in KEY_VARIABLES}
    env.update(extra)
    return env


def run(binary, *args, stdin="", env=None):
    proc = subprocess.run([binary, *args], input=stdin, capture_output=True, text=True, timeout=TIMEOUT,
                          env=env if env is not None else clean_env())
    return proc.returncode, proc.stdout, proc.stderr


def expect(condition, what, out="", err=""):
    if not condition:
        sys.exit("FAILED: %s\n--- stdout\n%s--- stderr\n%s" % (what, out, err))


class Configs:
    """Config files in a temporary directory, pointing at the test server."""

    def __init__(self, server):
        self.server = server
        self.dir = tempfile.TemporaryDirectory()

    def write(self, config):
        path = os.path.join(self.dir.name, "config-%d.json" % len(os.listdir(self.dir.name)))
        with open(path, "w") as f:
            json.dump(config, f)
        return path

    def loopback(self, **extra):
        config = {
            "primary": "openai/gpt-4o",
            "fallbacks": ["anthropic/claude-sonnet-4-6"],
            "providers": {
                "openai": {"base_url": self.server.base_url("/v1"), "api_key": "k-openai"},
                "anthropic": {"base_url": self.server.base_url("/anthropic/v1"), "api_key": "k-anthropic"},
            },
            "max_retries": 1, "retry_base_ms": 10, "retry_max_ms": 50,
        }
        config.update(extra)
        return self.write(config)


def check_cli(server, binary, configs):
    code, out, err = run(binary, "--help")
    expect(code == 0 and "usage: models-chat" in out, "--help prints the usage", out, err)
    for text in ("Exit status", "ANTHROPIC_API_KEY", "GITHUB_TOKEN", "--config FILE", "--stream", "--system TEXT"):
        expect(text in out, "--help mentions %s" % text, out, err)
    code, out, err = run(binary, "--version")
    expect(code == 0 and out.startswith("models-chat 0.") and "(libmodels 0." in out, "--version", out, err)
    code, out, err = run(binary, "--frobnicate", "hi")
    expect(code == 2, "an unknown option exits 2", out, err)
    code, out, err = run(binary, "--max-tokens", "lots", "hi")
    expect(code == 2 and "--max-tokens" in err, "a bad --max-tokens exits 2", out, err)
    code, out, err = run(binary, "--config", configs.loopback(), stdin=" \n")
    expect(code == 2 and "no prompt" in err, "an empty prompt exits 2", out, err)


def check_config_errors(server, binary, configs):
    code, out, err = run(binary, "--config", "/nonexistent/router.json", "hi")
    expect(code == 3 and "cannot read the config" in err, "a missing config file exits 3", out, err)
    path = configs.write({"primary": "openai/gpt-4o", "providers": {"openai": {"apikey": "k"}}})
    code, out, err = run(binary, "--config", path, "hi")
    expect(code == 3 and "providers.openai.apikey" in err, "a bad config key is named, exit 3", out, err)
    code, out, err = run(binary, "hi")
    expect(code == 3 and "no API key found" in err and "OPENAI_API_KEY" in err,
           "no key and no config exits 3 and lists the variables", out, err)
    code, out, err = run(binary, "--config", configs.loopback(), "--model", "nowhere/model-x", "hi")
    expect(code == 3 and "nowhere" in err, "an unregistered provider exits 3", out, err)


def health_rows(text):
    """The health table's rows, split at spaces: model, group ("-" for a plain
    model), provider, available, in flight, latency ms ("-" before an answer),
    requests and tokens this minute ("used" or "used/limit"), then the reason's
    words."""
    rows = [line.split() for line in text.splitlines()]
    return [r for r in rows if r and r[0] != "MODEL"]


def check_env(server, binary, configs):
    # Keys set for three providers: the router lists them in order of preference.
    env = clean_env(GROQ_API_KEY="g", OPENAI_API_KEY="o", ANTHROPIC_API_KEY="a")
    code, out, err = run(binary, "--health", env=env)
    expect(code == 0, "--health alone exits 0", out, err)
    rows = health_rows(err)
    expect([r[0] for r in rows] == ["anthropic/claude-sonnet-4-6", "openai/gpt-4o", "groq/llama-3.3-70b-versatile"],
           "primary and fallbacks from the environment", out, err)
    expect(all(r[1:4] == ["-", r[0].split("/")[0], "yes"] and r[4:] == ["0", "-", "0", "0"] for r in rows),
           "each is available, idle, in no group", out, err)
    expect("a" not in out.split() and "=o" not in err, "no key is printed", out, err)
    # --model becomes the primary; a known keyless provider (ollama) is registered.
    code, out, err = run(binary, "--health", "--model", "ollama/llama3.2", env=clean_env(OPENAI_API_KEY="o"))
    rows = health_rows(err)
    expect(code == 0 and [r[0] for r in rows] == ["ollama/llama3.2", "openai/gpt-4o"] and rows[0][3] == "yes",
           "--model is the primary, the environment's models the fallbacks", out, err)
    # GITHUB_TOKEN registers github-copilot.
    code, out, err = run(binary, "--health", env=clean_env(GITHUB_TOKEN="ghp_x"))
    rows = health_rows(err)
    expect(code == 0 and [r[0] for r in rows] == ["github-copilot/gpt-4.1"], "GITHUB_TOKEN gives Copilot", out, err)


def check_request(server, binary, configs):
    config = configs.loopback()
    code, out, err = run(binary, "--config", config, "--system", "Be brief.", "--max-tokens", "42", "What", "is", "up?")
    expect(code == 0 and out == "echo: What is up?\n", "the answer on stdout, nothing else", out, err)
    body = server.requests()[-1]["body"]
    expect(body["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is up?"}],
           "system and user messages", str(body))
    expect(body["max_tokens"] == 42 and body["model"] == "gpt-4o" and "stream" not in body, "request fields", str(body))

    code, out, err = run(binary, "--config", config, stdin="from stdin\n")
    expect(code == 0 and out == "echo: from stdin\n", "the prompt from standard input", out, err)

    code, out, err = run(binary, "--config", config, "--stream", "-v", "stream me please")
    expect(code == 0 and out == "echo: stream me please\n", "--stream prints the text", out, err)
    expect("-- openai/gpt-4o, 3 prompt + 4 completion tokens" in err, "-v prints model and usage", out, err)
    expect(server.requests()[-1]["body"]["stream"] is True, "--stream streams", out, err)

    code, out, err = run(binary, "--config", config, "--json", "hi")
    answer = json.loads(out)
    expect(code == 0 and answer["object"] == "chat.completion" and answer["model"] == "openai/gpt-4o",
           "--json prints the chat.completion", out, err)
    code, out, err = run(binary, "--config", config, "--json", "--stream", "hi")
    chunks = [json.loads(line) for line in out.splitlines()]
    expect(code == 0 and all(c["object"] == "chat.completion.chunk" for c in chunks) and len(chunks) >= 3,
           "--json --stream prints one chunk per line", out, err)

    code, out, err = run(binary, "--config", config, "--stream", "--options",
                         '{"extra_headers":{"X-Trace":"cli"},"extra_query":{"v":"1"}}', "hi")
    sent = server.requests()[-1]
    expect(code == 0 and sent["headers"].get("x-trace") == "cli" and sent["path"].endswith("?v=1"),
           "--options: extra headers and query reach the server", out, str(sent))
    code, out, err = run(binary, "--config", config, "--options", '{"max_retry":0}', "hi")
    expect(code == 3 and 'did you mean "max_retries"?' in err, "--options: a misspelled key is a usage error", out, err)

    code, out, err = run(binary, "--config", config, "--model", "anthropic/claude-haiku-4-5", "hi")
    sent = server.requests()[-1]
    expect(code == 0 and sent["path"] == "/anthropic/v1/messages" and sent["body"]["model"] == "claude-haiku-4-5",
           "--model with --config asks that model", out, str(sent))


def check_fallback(server, binary, configs):
    config = configs.loopback(cooldown={"base_ms": 60000})
    server.script("gpt-4o", {"status": 503}, {"status": 503})
    code, out, err = run(binary, "--config", config, "--stream", "-v", "--health", "Where", "am", "I?")
    expect(code == 0 and out == "echo: Where am I?\n", "the fallback answers the stream", out, err)
    expect(err.count("openai/gpt-4o: attempt") == 2 and "retrying in" in err, "the primary is retried once", out, err)
    expect("falling back to anthropic/claude-sonnet-4-6" in err, "then the fallback", out, err)
    expect("-- anthropic/claude-sonnet-4-6," in err, "the fallback answered", out, err)
    rows = health_rows(err[err.index("MODEL "):])
    # A failed call counts as 30 s in the latency average.
    expect(rows[0][:5] == ["openai/gpt-4o", "-", "openai", "no", "0"] and rows[0][5] == "30000"
           and rows[0][6:9] == ["2", "0", "cooldown"] and rows[0][9].startswith("(")
           and rows[1][:4] == ["anthropic/claude-sonnet-4-6", "-", "anthropic", "yes"] and rows[1][6] == "1"
           and int(rows[1][5]) >= 0, "health shows the cooldown, the requests and the fallback's latency", out, err)
    paths = [r["path"] for r in server.requests()]
    expect(paths == ["/v1/chat/completions"] * 2 + ["/anthropic/v1/messages"], "503, 503, then Anthropic", str(paths))


def check_groups(server, binary, configs):
    # A group's deployments, each with its group, its limits and this minute's use.
    config = configs.loopback(
        model_groups={"smart": {"deployments": [{"model": "openai/gpt-4o", "rpm": 1, "tpm": 500},
                                                {"model": "openai-2/gpt-4o", "weight": 0.000001}]}},
        primary="smart")
    with open(config) as f:
        text = json.load(f)
    text["providers"]["openai-2"] = {"base_url": server.base_url("/v1"), "api_key": "k-openai-2"}
    config = configs.write(text)
    server.script("gpt-4o", {"usage": {"prompt_tokens": 7, "completion_tokens": 5}})
    code, out, err = run(binary, "--config", config, "--health", "hi")
    expect(code == 0 and out == "echo: hi\n", "the group answers", out, err)
    header = err[err.index("MODEL "):].splitlines()[0].split()
    expect(header == ["MODEL", "GROUP", "PROVIDER", "AVAILABLE", "IN-FLIGHT", "LATENCY-MS", "REQUESTS/MIN",
                      "TOKENS/MIN", "REASON"], "the table's columns", out, err)
    rows = health_rows(err[err.index("MODEL "):])
    expect(len(rows) == 3, "two deployments and the fallback", out, err)
    expect(rows[0][:5] == ["openai/gpt-4o", "smart", "openai", "no", "0"] and int(rows[0][5]) >= 0
           and rows[0][6:8] == ["1/1", "12/500"] and " ".join(rows[0][8:]) == "at its rpm limit of 1 request a minute",
           "the first deployment: used/limit and the limit it is at", out, err)
    expect(rows[1] == ["openai-2/gpt-4o", "smart", "openai-2", "yes", "0", "-", "0", "0"],
           "the second deployment: idle, no limits", out, err)
    expect(rows[2][:4] == ["anthropic/claude-sonnet-4-6", "-", "anthropic", "yes"], "the fallback", out, err)


def check_exit_codes(server, binary, configs):
    config = configs.loopback(max_retries=0, timeout_ms=500)
    cases = [
        ("a refused request", [{"status": 401}], ["--model", "openai/gpt-4o-mini"], 1, "check the API key"),
        ("a timeout", [{"hang": True}], ["--model", "openai/gpt-4o-mini"], 5, "timeout_ms"),
        ("a malformed answer", [{"body": "{not json"}], ["--model", "openai/gpt-4o-mini"], 6, ""),
        ("every model failing", [{"status": 500}], [], 7, "all models failed"),
    ]
    for what, steps, args, status, message in cases:
        server.reset()
        server.script("gpt-4o-mini" if args else "*", *steps * 2)
        code, out, err = run(binary, "--config", config, *args, "hi")
        expect(code == status and message in err, "%s exits %d" % (what, status), out, err)
        expect("k-openai" not in err and "k-anthropic" not in err, "no key in messages", out, err)
    unreachable = configs.write({"primary": "openai/gpt-4o", "max_retries": 0,
                                 "providers": {"openai": {"base_url": "http://127.0.0.1:1/v1", "api_key": "k"}}})
    code, out, err = run(binary, "--config", unreachable, "hi")
    expect(code == 4 and "check the network" in err, "a refused connection exits 4", out, err)


def check_interrupt(server, binary, configs):
    server.script("gpt-4o", {"chunks": 200, "event_delay_ms": 50})
    proc = subprocess.Popen([binary, "--config", configs.loopback(), "--stream", "count"], env=clean_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.read(2)
    proc.send_signal(signal.SIGINT)
    started = time.monotonic()
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        sys.exit("FAILED: models-chat did not stop after SIGINT")
    out = first + out
    expect(proc.returncode == 130 and "interrupted" in err, "Ctrl-C exits 130", out, err)
    expect("w199" not in out and time.monotonic() - started < 2, "and stops at once", out, err)


def check_secrets(server, binary, configs):
    # --print-config shows no key, token or header value, from a config file...
    config = configs.write({
        "primary": "openai/gpt-4o",
        "providers": {
            "openai": {"base_url": server.base_url("/v1"), "api_key": "sk-print-secret-4711",
                       "headers": {"X-Auth": "hdr-print-secret-4711"}},
            "anthropic": {"api_key_env": "MY_ANTHROPIC_KEY"},
            "github-copilot": {"github_token": "ghp_printsecret4711"},
            "azure": {"type": "azure", "base_url": server.url, "api_version": "2024-10-21",
                      "api_key": "azure-print-secret-4711"},
            "gw": {"base_url": server.base_url("/v1") + "?key=gw-print-secret-4711&flag&v=1"},
            "aws": {"type": "bedrock", "region": "us-east-1", "aws_access_key_id": "AKIDSECRETPRINT",
                    "aws_secret_access_key": "aws-print-secret-4711", "aws_session_token": "aws-token-secret-4711"},
        },
    })
    code, out, err = run(binary, "--config", config, "--print-config")
    # (The key "aws_secret_access_key" is no secret; its value is.)
    expect(code == 0 and "secret" not in (out + err).replace("aws_secret_access_key", ""), "--print-config prints no secret",
           out, err)
    printed = json.loads(out)["providers"]
    expect(printed["openai"]["api_key"] == "[redacted]" and printed["openai"]["headers"]["X-Auth"] == "[redacted]"
           and printed["github-copilot"]["github_token"] == "[redacted]"
           and printed["azure"]["api_key"] == "[redacted]" and printed["azure"]["api_version"] == "2024-10-21"
           and printed["anthropic"]["api_key_env"] == "MY_ANTHROPIC_KEY"
           and printed["gw"]["base_url"] == server.base_url("/v1") + "?key=[redacted]&flag&v=[redacted]"
           and printed["aws"]["aws_secret_access_key"] == "[redacted]" and printed["aws"]["aws_session_token"] == "[redacted]"
           and printed["aws"]["aws_access_key_id"] == "[redacted]" and printed["aws"]["region"] == "us-east-1",
           "secrets show as [redacted], variables by name",
           out, err)
    # ...or from the environment, where it names the variables.
    code, out, err = run(binary, "--print-config", env=clean_env(OPENAI_API_KEY="sk-env-secret-4711"))
    expect(code == 0 and "secret" not in out and "OPENAI_API_KEY" in out, "the variable, not its key", out, err)
    # A syntax error next to a key: line and column, never the text around it.
    path = os.path.join(configs.dir.name, "broken.json")
    with open(path, "w") as f:
        f.write('{"primary": "openai/gpt-4o", "providers": {"openai": {"api_key": "sk-broken-secret-4711" "x": 1}}}')
    code, out, err = run(binary, "--config", path, "hi")
    expect(code == 3 and "line 1" in err and "secret" not in err and "sk-" not in err,
           "a syntax error quotes nothing of the config", out, err)


def check_embed(server, binary, configs):
    config = configs.loopback()
    code, out, err = run(binary, "--config", config, "--embed", "--model", "openai/text-embedding-3-small", "-v", "two words")
    vector = json.loads(out)
    expect(code == 0 and isinstance(vector, list) and len(vector) == 8, "--embed prints the vector", out, err)
    expect("-- openai/text-embedding-3-small, 2 prompt tokens" in err, "-v prints model and usage", out, err)
    sent = server.requests()[-1]
    expect(sent["path"] == "/v1/embeddings" and sent["body"] == {"input": "two words", "model": "text-embedding-3-small"},
           "the embeddings request", str(sent))
    code, out, err = run(binary, "--config", config, "--embed", "--json", "--options", '{"fallbacks":[]}', "x")
    answer = json.loads(out)
    expect(code == 0 and answer["object"] == "list" and answer["model"] == "openai/gpt-4o", "--embed --json", out, err)
    code, out, err = run(binary, "--config", config, "--embed", "--model", "anthropic/claude-haiku-4-5", "x")
    expect(code != 0 and "has no embeddings API" in err, "Anthropic has no embeddings", out, err)
    code, out, err = run(binary, "--config", config, "--embed", "--stream", "x")
    expect(code == 2 and "--embed goes with neither" in err, "--embed --stream is a usage error", out, err)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip())
    case, binary = sys.argv[1], sys.argv[2]
    check = globals().get("check_" + case)
    if check is None:
        sys.exit("unknown case: %s" % case)
    with TestServer.from_env() as server:
        server.reset()
        check(server, binary, Configs(server))
    print("models-chat %s: ok" % case)


if __name__ == "__main__":
    main()
