#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cmake --install` gives a usable library wherever it goes: a program outside the
# tree builds with pkg-config, and a CMake project with find_package(models), for
#  1. a staged install (DESTDIR) under the configured prefix, as a distribution does;
#  2. an install to another prefix (`--prefix`, as Conda, Spack and users do), whose
#     models.pc must name that prefix, then the same tree moved elsewhere, which the
#     CMake package follows (it is relocatable);
#  3. the build tree itself, through its models-uninstalled.pc.
set -eu
build="$1"; src="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build=$(cd "$build" && pwd)

cat > "$work/app.c" <<'C'
#include <models.h>
#include <stdio.h>
int main(void) {
    models_error *err = NULL;
    models_router *r = models_router_new("{\"primary\":\"openai/gpt-4o\"}", &err);
    printf("libmodels %s router %s\n", models_version(), r ? "ok" : models_error_message(err));
    models_router_free(r);
    return r ? 0 : 1;
}
C

fail() { echo "FAILED: $*"; exit 1; }

# The files an install must have, under root (a DESTDIR or a prefix); prints the libdir.
check_files() {
    libdir=$(dirname "$(find "$1" -name 'libmodels.so.1' | head -1)")
    for f in "$2/include/models.h" "$libdir/pkgconfig/models.pc" "$libdir/cmake/models/modelsConfig.cmake" \
             "$libdir/libmodels.so.1" "$libdir/libmodels.so"; do
        [ -e "$f" ] || { echo "missing after install: $f" >&2; ls -R "$1" >&2; exit 1; }
    done
    echo "$libdir"
}

# find_package(models) from a separate CMake project; runs it with the library of libdir.
check_find_package() {  # NAME PREFIX LIBDIR
    rm -rf "$work/consumer-$1"; mkdir -p "$work/consumer-$1"
    cp "$work/app.c" "$work/consumer-$1/app.c"
    cat > "$work/consumer-$1/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.16)
project(consumer C)
find_package(models 0.1 REQUIRED)
add_executable(app app.c)
target_link_libraries(app PRIVATE models::models)
CM
    cmake -S "$work/consumer-$1" -B "$work/consumer-$1/build" -G Ninja -DCMAKE_PREFIX_PATH="$2" \
        > "$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; fail "find_package(models) under $2"; }
    cmake --build "$work/consumer-$1/build" > "$work/build.log" 2>&1 || { cat "$work/build.log"; fail "building against $2"; }
    grep -q -- "$3/libmodels.so" "$work/consumer-$1/build/build.ninja" \
        || fail "the consumer of $2 does not link $3/libmodels.so"
    LD_LIBRARY_PATH="$3" "$work/consumer-$1/build/app"
}

# 1. Staged: DESTDIR under the prefix chosen at configure time (/usr/local by default,
# /usr for a distribution); pkg-config's sysroot maps the prefix into the DESTDIR.
DESTDIR="$work/root" cmake --install "$build" > "$work/install.log"
root="$work/root"
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
libdir=$(check_files "$root" "$root$prefix")
grep -qx "prefix=$prefix" "$libdir/pkgconfig/models.pc" || { cat "$libdir/pkgconfig/models.pc"; fail "staged models.pc does not say prefix=$prefix"; }
PKG_CONFIG_PATH="$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root" \
    cc "$work/app.c" -o "$work/app" $(PKG_CONFIG_PATH="$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root" pkg-config --cflags --libs models)
LD_LIBRARY_PATH="$libdir" "$work/app"
check_find_package staged "$root$prefix" "$libdir"

# 2. Another prefix than the configured one: models.pc names it, and nothing else.
other="$work/opt-x"
cmake --install "$build" --prefix "$other" > "$work/install-other.log"
libdir=$(check_files "$other" "$other")
pc="$libdir/pkgconfig/models.pc"
grep -qx "prefix=$other" "$pc" || { cat "$pc"; fail "models.pc installed with --prefix $other says another prefix"; }
flags=$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs models)
case "$flags" in *"-I$other/include"*"-L$libdir"*|*"-L$libdir"*"-I$other/include"*) ;;
    *) fail "pkg-config --cflags --libs models for --prefix $other gave: $flags" ;; esac
[ "$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --variable=libdir models)" = "$libdir" ] \
    || fail "pkg-config --variable=libdir models is not $libdir"
cc "$work/app.c" -o "$work/app-other" $flags
LD_LIBRARY_PATH="$libdir" "$work/app-other"
check_find_package other "$other" "$libdir"
# The CMake package is relocatable: the same tree moved still configures, against its new place.
mv "$other" "$work/moved"
check_find_package moved "$work/moved" "$work/moved/${libdir#"$other"/}"

# 3. The build tree, nothing installed: models-uninstalled.pc gives the source tree's
# header and the build tree's library, with an RPATH so the program runs as it is.
[ -f "$build/models-uninstalled.pc" ] || fail "$build/models-uninstalled.pc is missing"
flags=$(env -u PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH="$build" pkg-config --cflags --libs models)
case "$flags" in *"-I$src/include"*) ;; *) fail "uninstalled pkg-config gave no -I$src/include: $flags" ;; esac
case "$flags" in *"-L$build "*) ;; *) fail "uninstalled pkg-config gave no -L$build: $flags" ;; esac
cc "$work/app.c" -o "$work/app-uninstalled" $flags
env -u LD_LIBRARY_PATH "$work/app-uninstalled"
echo "installed library works with pkg-config and find_package(models), under any prefix and uninstalled"
