#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# debian/libmodels1.symbols lists exactly the symbols the library exports: the
# check the Debian package build makes (dpkg-gensymbols -c4), without building it.
# Skipped (77) without dpkg-dev.
set -eu
lib="$1"; src="$2"
command -v dpkg-gensymbols > /dev/null 2>&1 || { echo "dpkg-gensymbols not installed (dpkg-dev): skipped"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$src"
version=$(dpkg-parsechangelog -S Version)
if ! dpkg-gensymbols -plibmodels1 -v"$version" -P"$work" -e"$lib" -Idebian/libmodels1.symbols \
        -O"$work/symbols" -c4 > "$work/out" 2>&1; then
    cat "$work/out"
    echo "FAILED: the library's exports differ from debian/libmodels1.symbols (diff above)."
    echo "A function was added: run ./scripts/deb --update-symbols and commit the file."
    echo "One was removed: that breaks the ABI (a new SONAME), it is no symbols update."
    exit 1
fi
# dpkg-gensymbols forgives a symbol that disappears in the version that
# introduced it (all of them, before a release): compare the two lists exactly too.
nm -D --defined-only "$lib" | awk '$3 ~ /^models_/ {sub(/@.*/, "", $3); print $3}' | sort > "$work/exported"
sed -n 's/^ \(models_[A-Za-z0-9_]*\)@.*/\1/p' debian/libmodels1.symbols | sort > "$work/listed"
if ! diff -u "$work/listed" "$work/exported"; then
    echo "FAILED: debian/libmodels1.symbols (-) and the library's exports (+) differ."
    echo "Run ./scripts/deb --update-symbols, remove the lines of functions that are gone, and commit the file."
    exit 1
fi
echo "debian/libmodels1.symbols matches the library's $(grep -c '@' "$work/symbols") exported symbols"
