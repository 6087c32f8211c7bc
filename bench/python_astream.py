#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""N concurrent asyncio streams against nginx's paced 200-chunk stream
(bench/run's /paced/v1: limit_rate 16k, about 2 s per stream alone).

    python_astream.py --url URL/paced/v1 [--n 200 1000] [--clients libmodels,libmodels-threads,openai,litellm]

Each (client, N) runs in a process of its own (this script started again with
--one), so that threads, memory and the interpreter's state of one run do not
reach the next. Per run: wall time from the first request to the last chunk,
CPU time (user + system of the whole process) per chunk, the most OS threads
the process had while the streams ran (sampled every 20 ms), and the peak
resident memory (ru_maxrss).

Clients: ``libmodels`` is ``router.astream`` on the engine (the default);
``libmodels-threads`` the same with LIBMODELS_ASYNC=threads (a worker thread
per stream, as before the engine); ``openai`` the SDK's ``AsyncOpenAI``
(httpx); ``litellm`` ``litellm.acompletion(stream=True)``. A client that is not
installed is reported and skipped. Prints "RESULT key value" lines. A
benchmark, not a test: it never fails on a missed target.
"""
import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_TELEMETRY", "False")

KEY = "sk-bench-not-a-secret"
MESSAGES = [{"role": "user", "content": "hi"}]


def threads_now():
    return len(os.listdir("/proc/self/task"))


def cpu_now():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


async def libmodels_streams(url, n):
    import libmodels
    router = libmodels.Router({"primary": "bench/gpt-bench", "max_retries": 0, "timeout_ms": 600000,
                               "providers": {"bench": {"base_url": url, "api_key": KEY}}})

    async def one():
        count = 0
        async for _ in router.astream(messages=MESSAGES):
            count += 1
        return count

    try:
        return await asyncio.gather(*[one() for _ in range(n)])
    finally:
        router.close()


async def openai_streams(url, n):
    import openai
    client = openai.AsyncOpenAI(base_url=url, api_key=KEY, max_retries=0, timeout=600)

    async def one():
        count = 0
        async for _ in await client.chat.completions.create(model="gpt-bench", messages=MESSAGES, stream=True):
            count += 1
        return count

    try:
        return await asyncio.gather(*[one() for _ in range(n)])
    finally:
        await client.close()


async def litellm_streams(url, n):
    import litellm

    async def one():
        count = 0
        response = await litellm.acompletion(model="openai/gpt-bench", api_base=url, api_key=KEY,
                                             messages=MESSAGES, stream=True, timeout=600)
        async for _ in response:
            count += 1
        return count

    return await asyncio.gather(*[one() for _ in range(n)])


CLIENTS = {"libmodels": libmodels_streams, "libmodels-threads": libmodels_streams,
           "openai": openai_streams, "litellm": litellm_streams}


async def measure(client, url, n):
    peak = [threads_now()]
    done = asyncio.Event()

    async def sample():
        while not done.is_set():
            peak[0] = max(peak[0], threads_now())
            await asyncio.sleep(0.02)

    sampler = asyncio.ensure_future(sample())
    wall0, cpu0 = time.monotonic(), cpu_now()
    counts = await CLIENTS[client](url, n)
    wall, cpu = time.monotonic() - wall0, cpu_now() - cpu0
    done.set()
    await sampler
    chunks = sum(counts)
    return {"wall_s": wall, "cpu_us_per_chunk": cpu * 1e6 / max(1, chunks), "chunks": chunks,
            "threads": peak[0], "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_one(client, url, n):
    if client == "libmodels-threads":
        os.environ["LIBMODELS_ASYNC"] = "threads"
    try:
        result = asyncio.run(measure(client, url, n))
    except ImportError as exc:
        result = {"skipped": "not installed (%s)" % exc.name}
    except Exception as exc:  # noqa: BLE001 - a benchmark reports, never fails
        result = {"skipped": "%s: %s" % (type(exc).__name__, exc)}
    print(json.dumps(result))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="base URL of the paced stream (URL/chat/completions)")
    parser.add_argument("--n", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--clients", default="libmodels,libmodels-threads,openai")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        return run_one(args.one, args.url, args.n[0])
    clients = [c for c in args.clients.split(",") if c]
    print("%-18s %6s %9s %14s %8s %8s %8s" % ("client", "N", "wall s", "CPU us/chunk", "chunks", "threads", "RSS MB"))
    for n in args.n:
        for client in clients:
            if client not in CLIENTS:
                print("%-18s unknown client" % client)
                continue
            out = subprocess.run([sys.executable, __file__, "--url", args.url, "--n", str(n), "--one", client],
                                 stdout=subprocess.PIPE, text=True, check=False).stdout.strip().splitlines()
            try:
                r = json.loads(out[-1])
            except (IndexError, ValueError):
                r = {"skipped": "no result (%r)" % out[-1:]}
            if "skipped" in r:
                print("%-18s %6d skipped: %s" % (client, n, r["skipped"]))
                continue
            print("%-18s %6d %9.2f %14.1f %8d %8d %8.0f" % (client, n, r["wall_s"], r["cpu_us_per_chunk"], r["chunks"],
                                                          r["threads"], r["rss_mb"]))
            key = client.replace("-", "_")
            for name in ("wall_s", "cpu_us_per_chunk", "threads", "rss_mb"):
                print("RESULT astream_%s_%d_%s %.2f" % (key, n, name, r[name]))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
