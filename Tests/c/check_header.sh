#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The public header compiles as C99 and as C++ with every warning an error,
# its version macros included.
set -eu
header="$1"
dir=$(dirname "$header")
cat > "${TMPDIR:-/tmp}/models_hdr_$$.c" <<'EOF'
#include <models.h>
#if !MODELS_AT_LEAST_VERSION(0, 0, 0) || MODELS_AT_LEAST_VERSION(MODELS_VERSION_MAJOR + 1, 0, 0)
#error "MODELS_AT_LEAST_VERSION is wrong"
#endif
#if MODELS_VERSION_NUM != MODELS_VERSION_MAJOR * 10000 + MODELS_VERSION_MINOR * 100 + MODELS_VERSION_PATCH
#error "MODELS_VERSION_NUM is wrong"
#endif
typedef char models_at_least_itself[MODELS_AT_LEAST_VERSION(MODELS_VERSION_MAJOR, MODELS_VERSION_MINOR,
                                                            MODELS_VERSION_PATCH) ? 1 : -1];
int main(void) {
    models_provider_callbacks cb = {sizeof cb, 0, 0, 0, 0, 0};
    models_token_source ts = {sizeof ts, 0, 0, 0};
    (void)sizeof(models_at_least_itself);
    return models_version() == 0 || cb.size == 0 || ts.size == 0 || MODELS_VERSION_NUM < 0;
}
EOF
trap 'rm -f "${TMPDIR:-/tmp}/models_hdr_$$.c"' EXIT
cc -std=c99 -Wall -Wextra -Werror -pedantic -fsyntax-only -I"$dir" "${TMPDIR:-/tmp}/models_hdr_$$.c"
c++ -x c++ -std=c++11 -Wall -Wextra -Werror -pedantic -fsyntax-only -I"$dir" "${TMPDIR:-/tmp}/models_hdr_$$.c"
echo "models.h compiles as C99 and C++11, version macros included"
