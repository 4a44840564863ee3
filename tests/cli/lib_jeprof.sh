# Helpers for the jeprof-c CLI tests (sourced; run.sh skips lib*.sh).
# Sets JEPROF_C, TESTDIR (the sources), WORK (a temp dir removed on exit).
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
JEPROF_C=${JEPROF_C:-$ROOT/build/jeprof-c}
TESTDIR=$ROOT/tests/cli/jeprof
JEMALLOC_SO=${JEMALLOC_SO:-/usr/lib/x86_64-linux-gnu/libjemalloc.so.2}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/jeprof-c-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

skip() { echo "skip: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
need() { for c in "$@"; do command -v "$c" >/dev/null 2>&1 || skip "'$c' is not installed"; done; }

[ -x "$JEPROF_C" ] || fail "no $JEPROF_C (run make)"

# Builds the C test program (and, unless "c" is given, the C++ one) into
# $WORK (-O2, no frame pointers).
# (Profiling subjects: compiled here on purpose with deliberate flags, -O2
# and no frame pointers, as jeprof reads them; the tests are about those.)
build_progs() {
    need gcc
    gcc -O2 -g -fomit-frame-pointer -o "$WORK/prog" "$TESTDIR/prog_a.c" "$TESTDIR/prog_b.c" ||
        fail "cannot build prog"
    [ "${1:-}" = c ] && return 0
    need g++
    g++ -O2 -g -fomit-frame-pointer -o "$WORK/progxx" "$TESTDIR/prog_cxx.cc" ||
        fail "cannot build progxx"
}

# jemalloc_dump PROG LG OUTNAME [args]: runs PROG under Debian's jemalloc with
# profiling (plus $EXTRA_CONF) and prints the path of its final dump; interval
# dumps, if any, are left beside it as OUTNAME.<pid>.<seq>.i<n>.heap.
jemalloc_dump() {
    local prog=$1 lg=$2 name=$3; shift 3
    [ -f "$JEMALLOC_SO" ] || skip "no $JEMALLOC_SO"
    rm -f "$WORK/$name".*.heap
    LD_PRELOAD=$JEMALLOC_SO MALLOC_CONF=prof:true,prof_final:true,prof_prefix:$WORK/$name,lg_prof_sample:$lg${EXTRA_CONF:+,$EXTRA_CONF} \
        "$prog" "$@" >/dev/null || fail "$prog failed under jemalloc"
    local f
    f=$(ls "$WORK/$name".*.f.heap 2>/dev/null | head -n 1)
    [ -n "$f" ] || skip "jemalloc wrote no profile (built without profiling?)"
    echo "$f"
}
