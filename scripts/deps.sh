#!/usr/bin/env bash
# Installs the Debian packages the build, tests, demo and benchmarks need,
# skipping what is already there. Needs root to install; otherwise only reports.
set -eu
PKGS="build-essential pkg-config libunwind-dev libnuma-dev libprotobuf-c-dev protobuf-c-compiler
zlib1g-dev libdw-dev libelf-dev graphviz libgraphviz-dev libjemalloc-dev libjemalloc2 libgoogle-perftools-dev
libmimalloc-dev redis-server redis-tools python3 git perl golang-go gnuplot-nox nodejs npm
chromium hyperfine binutils time procps poppler-utils g++ clang libclang-rt-14-dev libc6-dbg"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "deps: all packages present"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "deps: missing packages:$missing (run as root to install)" >&2
    exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends $missing >/dev/null
