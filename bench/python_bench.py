#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The Python side of the libmodels benchmark (bench/run starts it).

    python_bench.py --chat URL --stream URL [--seconds N] [--only chat|stream]
                    [--clients libmodels,openai]

URL are the base URLs of the canned nginx server (URL/chat/completions).
Compares the --clients (libmodels `router.chat`/`router.stream`, the official
openai SDK's `client.chat.completions.create`, `litellm.completion`) on the
same server, in one process:

  1. per request: interleaved round by round (the order rotating) so that a
     change of machine load hits every client alike;
  2. per chunk: iterating a 10,000-chunk stream to the end, about a second
     of each client in turn, round after round.

litellm runs a logging thread after every request, which competes for the
GIL with whatever else runs in the process (a ctypes call returning must wait
for the GIL, up to the 5 ms switch interval), so bench/run measures it in a
process of its own, next to the openai SDK: `--clients openai,litellm`.

A client that is not installed (or fails) is reported and skipped. Prints a
table and "RESULT key value" lines. A benchmark, not a test: it never fails on
a missed target.
"""
import argparse
import gc
import json
import os
import statistics
import sys
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network at import
os.environ.setdefault("LITELLM_TELEMETRY", "False")

KEY = "sk-bench-not-a-secret"
MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Say hello in five words."},
]
PARAMS = {"max_tokens": 50, "temperature": 0.2}
EXPECTED_CHUNKS = 10000


def quantile(values, q):
    s = sorted(values)
    return s[int(q * (len(s) - 1) + 0.5)]


# --- clients --------------------------------------------------------------

class LibModels:
    name = "libmodels"

    def __init__(self, chat_url, stream_url):
        import libmodels
        self.version = libmodels.__version__

        def router(url):
            return libmodels.Router({"primary": "bench/gpt-bench", "max_retries": 0,
                                     "providers": {"bench": {"base_url": url, "api_key": KEY}}})
        self.chat_router = router(chat_url)
        self.stream_router = router(stream_url)

    def chat(self):
        reply = self.chat_router.chat(messages=MESSAGES, **PARAMS)
        return reply["choices"][0]["message"]["content"]

    def stream(self):
        n = 0
        with self.stream_router.stream(messages=MESSAGES, **PARAMS) as s:
            for chunk in s:
                n += 1
        return n


class OpenAISDK:
    name = "openai SDK"

    def __init__(self, chat_url, stream_url):
        import openai
        self.version = openai.__version__
        self.chat_client = openai.OpenAI(base_url=chat_url, api_key=KEY, max_retries=0)
        self.stream_client = openai.OpenAI(base_url=stream_url, api_key=KEY, max_retries=0)

    def chat(self):
        reply = self.chat_client.chat.completions.create(model="gpt-bench", messages=MESSAGES, **PARAMS)
        return reply.choices[0].message.content

    def stream(self):
        n = 0
        for chunk in self.stream_client.chat.completions.create(
                model="gpt-bench", messages=MESSAGES, stream=True,
                stream_options={"include_usage": True}, **PARAMS):
            n += 1
        return n


class LiteLLM:
    name = "litellm"

    def __init__(self, chat_url, stream_url):
        import importlib.metadata
        import litellm
        litellm.suppress_debug_info = True
        litellm.telemetry = False
        self.litellm = litellm
        self.version = importlib.metadata.version("litellm")
        self.chat_url = chat_url
        self.stream_url = stream_url

    def chat(self):
        reply = self.litellm.completion(model="openai/gpt-bench", api_base=self.chat_url, api_key=KEY,
                                        messages=MESSAGES, num_retries=0, **PARAMS)
        return reply.choices[0].message.content

    def stream(self):
        n = 0
        for chunk in self.litellm.completion(model="openai/gpt-bench", api_base=self.stream_url, api_key=KEY,
                                             messages=MESSAGES, stream=True, num_retries=0,
                                             stream_options={"include_usage": True}, **PARAMS):
            n += 1
        return n


CLIENTS = {"libmodels": LibModels, "openai": OpenAISDK, "litellm": LiteLLM}


def load_clients(chat_url, stream_url, names):
    clients = []
    for cls in (CLIENTS[n] for n in names):
        try:
            c = cls(chat_url, stream_url)
            c.chat()  # proves it works before anything is timed
            clients.append(c)
            print("  %-11s %s" % (c.name, c.version))
        except Exception as e:  # noqa: BLE001 - any failure just drops the column
            print("  %-11s skipped: %s: %s" % (cls.name, type(e).__name__, str(e).splitlines()[0][:200] if str(e) else ""))
    return clients


# --- 1. per request -------------------------------------------------------

def bench_chat(clients, seconds):
    for c in clients:
        for _ in range(50):
            c.chat()
    times = {c.name: [] for c in clients}
    rounds = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or rounds < 200:
        # Rotate who goes first so no client always follows the same one.
        order = clients[rounds % len(clients):] + clients[:rounds % len(clients)]
        for c in order:
            t0 = time.perf_counter()
            c.chat()
            times[c.name].append((time.perf_counter() - t0) * 1e6)
        rounds += 1
    return times, rounds


# --- 2. per chunk ---------------------------------------------------------

def bench_streams(clients, seconds):
    """Time slices of about a second per client, round after round in a
    rotating order, so that a change of machine load hits every client alike.
    Returns {name: (chunks/s, streams)}."""
    alive = []
    for c in clients:
        try:
            c.stream()  # warm up, and proves the client can stream
            alive.append(c)
        except Exception as e:  # noqa: BLE001 - a client that cannot stream drops out
            print("  %-12s stream failed, skipped: %s: %s" % (c.name, type(e).__name__, e))
    clients = alive
    chunks = {c.name: 0 for c in clients}
    spent = {c.name: 0.0 for c in clients}
    streams = {c.name: 0 for c in clients}
    rounds = 0
    end = time.perf_counter() + seconds * len(clients)
    while time.perf_counter() < end or rounds < 1:
        order = clients[rounds % len(clients):] + clients[:rounds % len(clients)]
        for c in order:
            slice_start = time.perf_counter()
            while True:
                t0 = time.perf_counter()
                n = c.stream()
                spent[c.name] += time.perf_counter() - t0
                if n < EXPECTED_CHUNKS - 1:  # an SDK may drop the usage-only chunk
                    raise RuntimeError("%s: stream of %d chunks, expected %d" % (c.name, n, EXPECTED_CHUNKS))
                chunks[c.name] += n
                streams[c.name] += 1
                if time.perf_counter() - slice_start >= 1.0:
                    break
        rounds += 1
    return {c.name: (chunks[c.name] / spent[c.name], streams[c.name]) for c in clients}


def json_loads_ns(seconds):
    line = json.dumps({"id": "chatcmpl-bench01", "object": "chat.completion.chunk", "created": 1700000000,
                       "model": "gpt-bench", "choices": [{"index": 0, "delta": {"content": "w00001 "},
                                                          "finish_reason": None}]}, separators=(",", ":"))
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(10000):
            json.loads(line)
        n += 10000
    return (time.perf_counter() - start) * 1e9 / n


# --- main -----------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--chat", required=True)
    ap.add_argument("--stream", required=True)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--only", choices=["chat", "stream"])
    ap.add_argument("--clients", default="libmodels,openai",
                    help="comma-separated, of: libmodels, openai, litellm (default: libmodels,openai)")
    args = ap.parse_args()
    names = [n.strip() for n in args.clients.split(",") if n.strip()]
    unknown = [n for n in names if n not in CLIENTS]
    if unknown:
        ap.error("unknown client(s): %s" % ", ".join(unknown))

    print("Python %s; clients:" % sys.version.split()[0])
    clients = load_clients(args.chat, args.stream, names)
    if not clients:
        print("no client could run")
        return 1
    names = [c.name for c in clients]
    base = "openai SDK" if "openai SDK" in names else None
    gc.collect()

    ns = json_loads_ns(min(1.0, args.seconds / 3))
    print("\nReference: json.loads of one 170-byte chunk: %.0f ns (%.0f chunks/s)" % (ns, 1e9 / ns))
    print("RESULT py_json_loads_ns %.0f" % ns)

    if args.only in (None, "chat"):
        times, rounds = bench_chat(clients, args.seconds)
        print("\n1. Per request (%d interleaved rounds, microseconds)" % rounds)
        print("  %-12s %9s %9s %9s   %s" % ("", "median", "p90", "mean", "openai SDK time / this"))
        for c in clients:
            t = times[c.name]
            med = statistics.median(t)
            speed = (statistics.median(times[base]) / med) if base else float("nan")
            print("  %-12s %9.1f %9.1f %9.1f   %.2fx" % (c.name, med, quantile(t, 0.9), statistics.fmean(t), speed))
            key = c.name.split()[0].lower()
            print("RESULT py_%s_chat_median_us %.1f" % (key, med))
        if base and "libmodels" in names:
            print("  target: libmodels >= 3x faster per request than the openai SDK")

    if args.only in (None, "stream"):
        print("\n2. Streams of %d chunks, iterated to the end     chunks/s   per chunk   streams   vs openai SDK"
              % EXPECTED_CHUNKS)
        rates = bench_streams(clients, args.seconds)
        for c in clients:
            if c.name not in rates:
                continue
            r, streams = rates[c.name]
            vs = r / rates[base][0] if base in rates else float("nan")
            print("  %-44s %10.0f %9.2f us %7d   %6.2fx" % (c.name, r, 1e6 / r, streams, vs))
            print("RESULT py_%s_chunks_per_s %.0f" % (c.name.split()[0].lower(), r))
        if base and "libmodels" in names:
            print("  target: libmodels >= 5x the openai SDK's chunks/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
