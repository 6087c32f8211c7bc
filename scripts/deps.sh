#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages that building and testing libmodels need, when
# they are missing. As root it runs apt-get; otherwise it prints the command.
# Usage: scripts/deps.sh  (sourced by scripts/test and scripts/demo as well)
set -eu
# The second line: what scripts/deb needs to build and check the Debian packages,
# and abigail-tools for the ABI check (scripts/abi-check).
packages="libcurl4-openssl-dev libjansson-dev cmake ninja-build pkg-config python3 python3-venv python3-pytest python3-botocore python3-setuptools python3-wheel nginx-light binutils valgrind libhiredis-dev redis-server
    debhelper dh-python dpkg-dev help2man lintian python3-all abigail-tools"
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "installing:$missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq $missing > /dev/null
    else
        echo "libmodels needs these Debian packages:$missing"
        echo "install them with: sudo apt-get install -y$missing"
        exit 1
    fi
fi
if ! command -v swift > /dev/null 2>&1 && [ ! -x /opt/swift/usr/bin/swift ]; then
    echo "libmodels needs a Swift 6 toolchain (swift on PATH, or at /opt/swift)"
    exit 1
fi
