# Shared by tests/apps/*.sh (run.sh skips lib*): locates the allocator,
# gives each test a scratch directory, and checks that a preloaded process
# really runs on liballoc. Exit 0 pass, 1 fail, 77 skip.
set -u
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LIB=$ROOT/build/liballoc.so
# The matrix's "set" configuration, for apps that run twice.
CONF_SET="narenas:3,dirty_decay_ms:0,muzzy_decay_ms:0,tcache_max:4096"

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
need() { command -v "$1" >/dev/null 2>&1 || skip "$1 not installed"; }

[ -f "$LIB" ] || fail "$LIB not built (run make)"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/liballoc-app.XXXXXX") || fail "mktemp"
cleanup_hooks=""
on_exit() {
    eval "$cleanup_hooks"
    rm -rf "$TMP"
}
trap on_exit EXIT

# Print the path of a test program the Makefile builds (tests/tests.mk) into
# build/tests/<rel>; fail if it is missing (a script never compiles its own
# test programs, so they get the build's flags). Use: X=$(app_bin rel) || exit 1
app_bin() { # rel
    local bin=$ROOT/build/tests/$1
    [ -x "$bin" ] || { echo "FAIL: $bin is not built (run make test)" >&2; return 1; }
    echo "$bin"
}

# Run a command with the allocator preloaded (only that command).
preload() { env LD_PRELOAD="$LIB" "$@"; }

# A preloaded process maps liballoc (ld.so only warns and goes on when a
# preload fails, so this must be checked, not assumed).
check_preload_maps() {
    local maps
    maps=$(env LD_PRELOAD="$LIB" cat /proc/self/maps) || fail "preloaded cat failed"
    grep -qF "$LIB" <<<"$maps" || fail "LD_PRELOAD=$LIB: library not mapped in a preloaded process"
}

# Compare two output files; on difference show the first lines of the diff.
same_output() { # what ref out
    if ! cmp -s "$2" "$3"; then
        echo "FAIL: $1: output differs between glibc malloc and LD_PRELOAD=liballoc:"
        diff "$2" "$3" | head -20
        exit 1
    fi
}

# MALLOC_CONF reaches the preloaded allocator: stats_print:true makes the
# program print liballoc's statistics at exit (on stderr).
check_stats_print() { # cmd...
    local err
    err=$(env MALLOC_CONF=stats_print:true LD_PRELOAD="$LIB" timeout 300 "$@" 2>&1 >/dev/null)
    grep -q "___ Begin jemalloc statistics ___" <<<"$err" ||
        fail "MALLOC_CONF=stats_print:true $*: no statistics printed at exit (is liballoc the malloc?)"
}
