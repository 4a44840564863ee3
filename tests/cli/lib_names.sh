# Helpers for the C++/Rust name tests (sourced after lib_jeprof.sh).

# ours_dump PROG NAME: runs PROG under our allocator, every byte sampled,
# heap_v2 and pprof at exit; sets HEAP and PB to the two dumps.
# $LIBALLOC_SO overrides build/liballoc.so.
ours_dump() {
    local prog=$1 name=$2
    local so=${LIBALLOC_SO:-$ROOT/build/liballoc.so}
    [ -f "$so" ] || fail "no $so (run make)"
    LD_PRELOAD=$so \
        MALLOC_CONF=prof:true,prof_final:true,lg_prof_sample:0,prof_format:both,prof_prefix:$WORK/$name \
        "$prog" >/dev/null || fail "$prog failed under liballoc"
    HEAP=$(ls "$WORK/$name".*.f.heap 2>/dev/null | head -n 1)
    PB=$(ls "$WORK/$name".*.f.pb.gz 2>/dev/null | head -n 1)
    [ -n "$HEAP" ] && [ -n "$PB" ] || fail "$prog wrote no final dumps"
}

# top_names N FILE: the names of the first N rows of a jeprof-c --text or
# go tool pprof -top report (the text after the five value columns), sorted.
# With a third argument, rows with that name are skipped (not counted).
top_names() {
    awk -v n="$1" -v skip="${3:-}" '
        /^ *flat +flat%/ {go = 1; next}
        /^Total:/ {go = 1; next}
        go && k < n {sub(/^ *[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +/, ""); if ($0 == skip) next; print; k++}' "$2" | sort
}

# flat_of NAME FILE: the flat value (first column) of NAME's row in a
# jeprof-c --text --show_bytes report.
flat_of() {
    awk -v want="$1" '{l = $0; sub(/^ *[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +/, "", l)} l == want {print $1; exit}' "$2"
}

# no_mangled FILE...: fails when a mangled C++/Rust name or a Rust hash or
# escape shows in any of the files.
no_mangled() {
    if grep -E '(^|[ ;])_Z[A-Za-z0-9_]|(^|[ ;])_R[A-Z0-9][A-Za-z0-9_]|\$(LT|GT|u20|u7b)\$|::h[0-9a-f]{16}' "$@"; then
        fail "mangled names in $*"
    fi
}

# want_at_least NAME VALUE MIN
want_at_least() {
    [ -n "$2" ] && [ "$2" -ge "$3" ] || fail "$1: '$2', want at least $3"
}
