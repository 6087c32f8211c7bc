#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The shared-state benchmark (bench/shared_state_bench.c): starts nginx through
# bench/run (BENCH_SERVE_ONLY) and a redis-server on a free port, both on
# loopback, then measures local against shared state.
#   BENCH_BUILD=DIR (default build): a CMake build dir with libmodels built.
#   BENCH_SECONDS=N (default 3): seconds per measurement.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BENCH_BUILD:-$ROOT/build}
SECS=${BENCH_SECONDS:-3}
WORK=$(mktemp -d)
cleanup() { [ -n "${SERVE_PID:-}" ] && kill -- -"$SERVE_PID" 2>/dev/null; [ -n "${REDIS_PID:-}" ] && kill "$REDIS_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
cc -O2 -o "$WORK/shared_state_bench" "$ROOT/bench/shared_state_bench.c" -I"$ROOT/include" -L"$BUILD" -lmodels -lpthread \
    -Wl,-rpath,"$BUILD"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" --logfile redis.log &
REDIS_PID=$!
set -m
BENCH_SERVE_ONLY=1 BENCH_SKIP_BUILD=1 BENCH_BUILD="$BUILD" "$ROOT/bench/run" > "$WORK/serve.log" 2>&1 &
SERVE_PID=$!
set +m
for _ in $(seq 100); do grep -q "serving until" "$WORK/serve.log" && break; sleep 0.1; done
URL=$(sed -n 's/.*(chat: \([^,]*\), stream.*/\1/p' "$WORK/serve.log")
[ -n "$URL" ] || { cat "$WORK/serve.log"; exit 1; }
redis-cli -p "$PORT" ping > /dev/null
echo "== redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on 127.0.0.1:$PORT, nginx chat at $URL, $(nproc) CPUs"
"$WORK/shared_state_bench" "$URL" "$PORT" "$SECS"
