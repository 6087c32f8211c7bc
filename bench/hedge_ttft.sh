#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Time to first token with and without hedging (bench/hedge_ttft.c) against the
# loopback test server. Usage: bench/hedge_ttft.sh [BUILD] [N BASE_MS SLOW_MS HEDGE_MS]
# (defaults: build 300 20 1000 100). Needs the library built in BUILD (CMake).
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
[ $# -gt 0 ] && shift
out=$build/bench
mkdir -p "$out"
cc -O2 -std=gnu99 -Wall -Wextra -Iinclude -ITests/c bench/hedge_ttft.c -o "$out/hedge_ttft" \
    "$build/libmodels.so.1" -lcurl -lpthread -Wl,-rpath,"$PWD/$build"
python3 Tests/server/run_with_server.py -- "$out/hedge_ttft" "$@"
