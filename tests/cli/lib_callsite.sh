# Helpers for the call-site tests (sourced after lib_jeprof.sh; run.sh
# skips lib*.sh). Each test program marks its allocating lines "@NAME"; the
# helpers profile it with our allocator and with Debian's jemalloc, and
# check that every reader puts the flat bytes on the marked line.
LIBALLOC=${LIBALLOC:-$ROOT/build/liballoc.so}
[ -f "$LIBALLOC" ] || fail "no $LIBALLOC (run make)"
CS=$ROOT/tests/cli/callsite

# mark FILE NAME: the line number of the line holding "@NAME".
mark() {
    local n
    n=$(grep -n "@$2\b" "$1" | head -n 1 | cut -d: -f1)
    [ -n "$n" ] || fail "no @$2 in $1"
    echo "$n"
}

# ours PROG NAME [args]: profiles PROG under our allocator (every byte
# sampled, heap_v2 and pprof); sets HEAP and PB.
ours() {
    local prog=$1 name=$2; shift 2
    rm -f "$WORK/$name".*
    LD_PRELOAD=$LIBALLOC MALLOC_CONF=prof:true,lg_prof_sample:0,prof_final:true,prof_format:both,prof_prefix:$WORK/$name \
        "$prog" "$@" >/dev/null || fail "$prog failed under $LIBALLOC"
    HEAP=$(ls "$WORK/$name".*.f.heap 2>/dev/null | head -n 1)
    PB=$(ls "$WORK/$name".*.f.pb.gz 2>/dev/null | head -n 1)
    [ -n "$HEAP" ] && [ -n "$PB" ] || fail "$prog wrote no heap_v2 and pprof dumps"
}

# has_flat LABEL OUTPUT FILE:LINE [NAME-RE]: OUTPUT (jeprof --text or pprof
# -top) has a row with bytes on FILE:LINE (and a name matching NAME-RE).
# jeprof may append " (discriminator N)", pprof " (inline)"; pprof prints
# "0" for no bytes.
# has_cum: the same with bytes in the cumulative column (a caller's line).
NFAIL=0
has_flat() { row_with 1 "$@"; }
has_cum() { row_with 4 "$@"; }
row_with() {
    local col=$1 label=$2 out=$3 want=$4 name=${5:-}
    if awk -v col="$col" -v want="$want" -v name="$name" '
        { line = $0; sub(/ \(discriminator [0-9]+\)$/, "", line); sub(/ \(inline\)$/, "", line) }
        $col != "0" && $col != "0.0" && $(col + 1) != "0.0%" && length(line) >= length(want) &&
        substr(line, length(line) - length(want) + 1) == want &&
        substr(line, length(line) - length(want), 1) ~ /[ \/]/ &&
        (name == "" || line ~ name) { ok = 1 }
        END { exit !ok }' "$out"; then
        echo "ok   $label: $want${name:+ ($name)}"
    else
        echo "FAIL $label: no row with bytes (column $col) on $want${name:+ named /$name/}:"
        sed 's/^/     /' "$out" | head -n 25
        NFAIL=$((NFAIL + 1))
    fi
}

# go_top LABEL PROFILE OUT [PROG]: go tool pprof -lines -top into OUT.
go_top() {
    HOME=$WORK PPROF_TMPDIR=$WORK go tool pprof -lines -top -nodecount=1000 ${4:-} "$2" >"$3" 2>"$3.err" ||
        { cat "$3.err"; fail "$1: go tool pprof failed"; }
}
