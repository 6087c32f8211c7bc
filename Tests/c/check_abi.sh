#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# scripts/abi-check catches what breaks compiled programs and lets additions
# through. Each case edits a copy of models.h and builds a C stand-in for the
# library from it (scripts/abi-stub, the SONAME and cmake/models.map: a scratch
# build of the changed interface), then checks it against abi/libmodels.so.1.abi.
# Usage: check_abi.sh SOURCE_DIR.
set -eu
src="$1"
command -v abidiff > /dev/null 2>&1 || { echo "abidiff is missing: apt-get install abigail-tools (scripts/deps.sh)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# check NAME EXPECTED(pass|fail) MESSAGE SED-SCRIPT [SONAME]
check() {
    name="$1"; expected="$2"; message="$3"; edit="$4"; soname="${5:-libmodels.so.1}"
    dir="$work/$name"; mkdir -p "$dir/include"
    sed "$edit" "$src/include/models.h" > "$dir/include/models.h"
    if [ "$edit" != "" ] && cmp -s "$src/include/models.h" "$dir/include/models.h"; then
        echo "FAIL $name: the edit changed nothing in models.h (update this test)"; failures=$((failures + 1)); return
    fi
    cc -E -P "$dir/include/models.h" | "$src/scripts/abi-stub" > "$dir/stub.c"
    cc -std=c11 -fPIC -shared -I"$dir/include" -Wl,-soname,"$soname" \
        -Wl,--version-script="$src/cmake/models.map" -o "$dir/$soname" "$dir/stub.c"
    if "$src/scripts/abi-check" --include "$dir/include" "$dir/$soname" > "$dir/out" 2>&1; then got=pass; else got=fail; fi
    if [ "$got" = "$expected" ] && grep -q "$message" "$dir/out"; then
        echo "ok   $name: $got ($message)"
    else
        echo "FAIL $name: expected $expected with '$message', got $got:"; sed 's/^/     /' "$dir/out"
        failures=$((failures + 1))
    fi
}

check unchanged pass "matches abi/libmodels.so.1.abi" ""
check function_added pass "functions were added" \
    's/^void models_cooldown_gc(models_cooldown \*c);/&\nint models_cooldown_count(const models_cooldown *c);/'
check enum_value_added pass "matches abi/libmodels.so.1.abi" \
    's/^    MODELS_ERR_NOMEM = -10$/    MODELS_ERR_NOMEM = -10,\n    MODELS_ERR_LATER = -11/'
check function_removed fail "changed incompatibly" \
    '/^void models_cooldown_gc(models_cooldown \*c);/d'
check parameter_type_changed fail "changed incompatibly" \
    's/^int models_engine_process(models_engine \*e, int timeout_ms);/int models_engine_process(models_engine *e, int64_t timeout_ms);/'
check return_type_changed fail "changed incompatibly" \
    's/^int models_engine_calls(const models_engine \*e);/int64_t models_engine_calls(const models_engine *e);/'
check provider_callbacks_member_inserted fail "changed incompatibly" \
    '/^typedef struct models_provider_callbacks {/,/^}/s/^    size_t size;/&\n    int flags;/'
check provider_callbacks_member_removed fail "changed incompatibly" \
    '/^typedef struct models_provider_callbacks {/,/^}/{/^    void (\*stream_close)(void \*user, void \*stream);/d}'
check token_source_member_retyped fail "changed incompatibly" \
    '/^typedef struct models_token_source {/,/^}/s/^    size_t size;/    uint32_t size;/'
check token_source_callback_changed fail "changed incompatibly" \
    's/^    int (\*get_token)(void \*user, char \*\*token, models_error \*\*err);/    int (*get_token)(void *user, char **token, size_t *len, models_error **err);/'
check token_source_member_appended fail "changed incompatibly" \
    '/^typedef struct models_token_source {/,/^}/s/^} models_token_source;/    void (*on_refresh)(void *user);\n&/'
check enum_value_renumbered fail "changed incompatibly" \
    's/^    MODELS_ERR_NOMEM = -10$/    MODELS_ERR_NOMEM = -12/'
check soname_bumped fail "no ABI baseline for libmodels.so.2" \
    '/^void models_cooldown_gc(models_cooldown \*c);/d' libmodels.so.2

[ $failures -eq 0 ] && echo "abi-check: every change classified as expected"
exit $((failures != 0))
