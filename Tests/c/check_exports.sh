#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The functions declared in models.h and the symbols libmodels.so exports are
# the same set, both ways, each under the version node MODELS_1 (cmake/models.map);
# and the library needs no Swift shared library.
set -eu
lib="$1"; header="$2"
exported=$(nm -D --defined-only "$lib" | awk '!($2 == "A" && $3 == "MODELS_1") {print $3}' | sed 's/@.*//' | sort -u)
declared=$(cc -E -P "$header" | grep -oE '\bmodels_[a-z0-9_]+[[:space:]]*\(' | sed 's/[[:space:](]//g' | sort -u)
status=0
missing=$(printf '%s\n' "$declared" | comm -23 - "$(printf '%s\n' "$exported" > "${TMPDIR:-/tmp}/exp.$$"; echo "${TMPDIR:-/tmp}/exp.$$")")
extra=$(printf '%s\n' "$declared" | comm -13 - "${TMPDIR:-/tmp}/exp.$$")
rm -f "${TMPDIR:-/tmp}/exp.$$"
if [ -n "$missing" ]; then echo "declared in models.h but not exported:"; echo "$missing"; status=1; fi
if [ -n "$extra" ]; then echo "exported but not declared in models.h:"; echo "$extra"; status=1; fi
if ldd "$lib" | grep -i swift; then echo "libmodels links a Swift shared library (see above)"; status=1; fi
unversioned=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep '^models_' | grep -v '@@MODELS_1$' || true)
if [ -n "$unversioned" ]; then echo "exported without the version node MODELS_1 (cmake/models.map):"; echo "$unversioned"; status=1; fi
soname=$(readelf -d "$lib" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = "libmodels.so.1" ] || { echo "SONAME is '$soname', expected libmodels.so.1"; status=1; }
[ $status -eq 0 ] && echo "$(printf '%s\n' "$exported" | wc -l) exports match models.h, all under MODELS_1; no Swift library in ldd; SONAME $soname"
exit $status
