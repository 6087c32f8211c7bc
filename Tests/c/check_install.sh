#!/bin/sh
# `cmake --install` with DESTDIR gives a usable library: a program outside the
# tree builds with pkg-config, and a CMake project with find_package(models).
set -eu
build="$1"; src="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
DESTDIR="$work/root" cmake --install "$build" > "$work/install.log"
root="$work/root"
# The prefix chosen at configure time (/usr/local by default, /usr for a distribution).
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
libdir=$(dirname "$(find "$root" -name 'libmodels.so.1' | head -1)")
for f in "$root$prefix/include/models.h" "$libdir/pkgconfig/models.pc" "$libdir/cmake/models/modelsConfig.cmake"; do
    [ -f "$f" ] || { echo "missing after install: $f"; ls -R "$root"; exit 1; }
done
ls "$libdir"/libmodels.so.1 "$libdir"/libmodels.so > /dev/null

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
# pkg-config, as a user of the installed copy would (sysroot maps /usr to the DESTDIR).
export PKG_CONFIG_PATH="$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root"
cc "$work/app.c" -o "$work/app" $(pkg-config --cflags --libs models)
LD_LIBRARY_PATH="$libdir" "$work/app"

# find_package(models) from a separate CMake project.
mkdir -p "$work/consumer"
cp "$work/app.c" "$work/consumer/app.c"
cat > "$work/consumer/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.16)
project(consumer C)
find_package(models 0.1 REQUIRED)
add_executable(app app.c)
target_link_libraries(app PRIVATE models::models)
CM
cmake -S "$work/consumer" -B "$work/consumer/build" -G Ninja -DCMAKE_PREFIX_PATH="$root$prefix" > "$work/cmake.log" || { cat "$work/cmake.log"; exit 1; }
cmake --build "$work/consumer/build" > "$work/build.log" || { cat "$work/build.log"; exit 1; }
LD_LIBRARY_PATH="$libdir" "$work/consumer/build/app"
echo "installed library works with pkg-config and find_package(models)"
