#!/usr/bin/env bash
# prof_dual_jemalloc: a program linked with Debian's libjemalloc.so.2 and
# run under LD_PRELOAD=liballoc.so (libprof/foreign.h). libjemalloc still
# initialises and reads the same MALLOC_CONF; before foreign.c it wrote its
# own empty <prefix>.<pid>.0.f.heap over liballoc's at exit.
# Subject: tests/prof/dual.c built as dual_jemalloc (64 MiB kept in
# dual_fill, 64 KiB blocks; lg_prof_sample:14 samples each with p = 0.98).
#  1. liballoc serves malloc: <prefix>.<pid>.*.f.heap is liballoc's, the
#     only .f dump of that pid, and shows dual_fill within 10% of 64 MiB
#     (jeprof-c --text); interval dumps (.i<N>.) under the same names are
#     liballoc's too (each shows dual_fill); libjemalloc's own dumps, if
#     any, are under <prefix>.jemalloc.<pid>.* and nothing else is in the
#     directory; stderr names libjemalloc.so.2 once.
#  2. libjemalloc preloaded before liballoc (jemalloc serves malloc):
#     liballoc writes no dump and says so once, naming libjemalloc.so.2;
#     <prefix>.<pid>.0.f.heap is jemalloc's real one (dual_fill within 10%).
# Needs libjemalloc-dev (the subject is built only with it): skipped (77)
# without it, never when it is installed.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/prof/lib_prof.sh"
[ -x "$JEPROF_C" ] || fail "$JEPROF_C not built (run make)"
if [ ! -f /usr/include/jemalloc/jemalloc.h ]; then
    skip "libjemalloc-dev not installed"
fi
prof_need dual_jemalloc
P=$PROF_OUT/dual_jemalloc
JE=$(ldd "$P" | awk '$1 ~ /^libjemalloc\.so/ {print $3}')
[ -n "$JE" ] && [ -f "$JE" ] || fail "$P does not link libjemalloc.so.2: $(ldd "$P")"
MIB=1048576

# dual_fill's flat bytes in a dump, by jeprof-c --text (0 if absent).
fill_bytes() { # dump
    "$JEPROF_C" --text --nodecount=10 "$P" "$1" 2>/dev/null |
        awk '$NF == "dual_fill" && $1 ~ /^[0-9.]+$/ {printf "%d\n", $1 * 1048576; f = 1} END {if (!f) print 0}'
}
near_64mib() { # bytes
    [ "$1" -ge $((64 * MIB * 9 / 10)) ] && [ "$1" -le $((64 * MIB * 11 / 10)) ]
}

# ---- 1. liballoc serves, libjemalloc loaded beside it ----
D=$TMP/serve
mkdir -p "$D"
pid=$(env MALLOC_CONF="prof:true,prof_final:true,lg_prof_sample:14,lg_prof_interval:25,prof_prefix:$D/heap" \
    LD_PRELOAD="$LIB" "$P" 2>"$TMP/serve.err") || fail "dual_jemalloc under liballoc failed: $(cat "$TMP/serve.err")"
cat "$TMP/serve.err"
f=$(one_file "final dump of pid $pid" "$D"/heap."$pid".*.f.heap) || exit 1
b=$(fill_bytes "$f")
echo "final dump $(basename "$f"): dual_fill $b bytes"
near_64mib "$b" || fail "$(basename "$f"): dual_fill $b bytes, not within 10% of 64 MiB (libjemalloc's empty dump over liballoc's?)"
ni=0
for i in "$D"/heap."$pid".*.i*.heap; do
    [ -e "$i" ] || continue
    ni=$((ni + 1))
    [ "$(fill_bytes "$i")" -gt 0 ] || fail "interval dump $(basename "$i") has no dual_fill: $(head -2 "$i")"
done
[ "$ni" -ge 1 ] || fail "no interval dump heap.$pid.*.i*.heap (64 MiB at lg_prof_interval:25)"
for x in "$D"/*; do
    case $(basename "$x") in
    heap."$pid".*.f.heap | heap."$pid".*.i*.heap | heap.jemalloc."$pid".*) ;;
    *) fail "unexpected file $(basename "$x") in the dump directory" ;;
    esac
done
nj=$(ls "$D" | grep -c "^heap\.jemalloc\.$pid\.")
echo "libjemalloc's dumps, redirected: $nj ($(ls "$D" | grep "^heap\.jemalloc\." | tr '\n' ' '))"
n=$(grep -c "another jemalloc-API allocator is loaded: .*libjemalloc\.so" "$TMP/serve.err")
[ "$n" -eq 1 ] || fail "expected one warning naming libjemalloc.so.2 on stderr, got $n"
echo "ok   liballoc serves: its dumps are whole ($ni interval), libjemalloc's go to heap.jemalloc.*"

# ---- 2. libjemalloc first: it serves, liballoc stays quiet ----
D=$TMP/foreign
mkdir -p "$D"
pid=$(env MALLOC_CONF="prof:true,prof_final:true,lg_prof_sample:14,prof_prefix:$D/heap" \
    LD_PRELOAD="$JE:$LIB" "$P" 2>"$TMP/foreign.err") || fail "dual_jemalloc under jemalloc+liballoc failed: $(cat "$TMP/foreign.err")"
cat "$TMP/foreign.err"
f=$(one_file "final dump of pid $pid" "$D"/heap."$pid".*.f.heap) || exit 1
b=$(fill_bytes "$f")
echo "final dump $(basename "$f") (jemalloc's): dual_fill $b bytes"
near_64mib "$b" || fail "$(basename "$f"): dual_fill $b bytes, not within 10% of 64 MiB (liballoc's empty dump over jemalloc's?)"
[ "$(ls "$D" | wc -l)" -eq 1 ] || fail "liballoc wrote dumps while not serving malloc: $(ls "$D")"
n=$(grep -c "liballoc in .*liballoc\.so does not serve this process's malloc (.*libjemalloc\.so\.2 does)" "$TMP/foreign.err")
[ "$n" -eq 1 ] || fail "expected one notice that liballoc does not serve malloc, got $n"
echo "ok   libjemalloc serves: its dump is the only one, liballoc says why it wrote none"
