#!/usr/bin/env bash
# Installs the Debian packages the build, tests, demo and benchmarks need,
# skipping what is already there. Needs root to install; otherwise only reports.
# Required packages must install; optional ones (peers for benchmarks, programs
# the application and picture tests drive) are tried one by one, and a test
# whose tool is missing skips.
set -eu
REQUIRED="build-essential g++ pkg-config libunwind-dev libnuma-dev libprotobuf-c-dev protobuf-c-compiler
zlib1g-dev libhttp-parser-dev libdw-dev libelf-dev libdeflate-dev libzstd-dev libiberty-dev python3 git perl binutils time procps"
OPTIONAL="graphviz libjemalloc-dev libjemalloc2 libgoogle-perftools-dev libmimalloc-dev
redis-server redis-tools golang-go gnuplot-nox chromium hyperfine poppler-utils clang
libclang-rt-14-dev libc6-dbg gdb valgrind libxml2-utils heaptrack man-db groff-base dpkg-dev lintian rocksdb-tools"
# Node.js may come from elsewhere than Debian (then its npm is already there).
command -v node >/dev/null 2>&1 || OPTIONAL="$OPTIONAL nodejs"
command -v npm >/dev/null 2>&1 || OPTIONAL="$OPTIONAL npm"

missing() {
    local out=""
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || out="$out $p"
    done
    echo "$out"
}

req=$(missing $REQUIRED)
opt=$(missing $OPTIONAL)
if [ -z "$req$opt" ]; then
    echo "deps: all packages present"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "deps: missing packages:$req$opt (run as root to install)" >&2
    [ -z "$req" ]
    exit $?
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
if [ -n "$req" ]; then
    echo "deps: installing$req"
    apt-get install -y -q --no-install-recommends $req >/dev/null
fi
if [ -n "$opt" ]; then
    echo "deps: installing$opt"
    if ! apt-get install -y -q --no-install-recommends $opt >/dev/null 2>&1; then
        for p in $opt; do
            apt-get install -y -q --no-install-recommends "$p" >/dev/null 2>&1 ||
                echo "deps: warning: could not install $p (tests that need it will skip)" >&2
        done
    fi
fi
