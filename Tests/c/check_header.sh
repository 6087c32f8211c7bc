#!/bin/sh
# The public header compiles as C99 and as C++ with every warning an error.
set -eu
header="$1"
dir=$(dirname "$header")
printf '#include <models.h>\nint main(void) { return models_version() == 0; }\n' > "${TMPDIR:-/tmp}/models_hdr_$$.c"
trap 'rm -f "${TMPDIR:-/tmp}/models_hdr_$$.c"' EXIT
cc -std=c99 -Wall -Wextra -Werror -pedantic -fsyntax-only -I"$dir" "${TMPDIR:-/tmp}/models_hdr_$$.c"
c++ -x c++ -std=c++11 -Wall -Wextra -Werror -pedantic -fsyntax-only -I"$dir" "${TMPDIR:-/tmp}/models_hdr_$$.c"
echo "models.h compiles as C99 and C++11"
