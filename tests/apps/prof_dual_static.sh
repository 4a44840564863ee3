#!/usr/bin/env bash
# prof_dual_static: a program that links liballoc.a (two copies of the
# allocator once liballoc.so is preloaded too; libprof/foreign.h).
# Subject: tests/prof/dual.c built as dual_static (64 MiB kept in
# dual_fill, 64 KiB blocks; lg_prof_sample:14 samples each with p = 0.98).
# The program's own copy serves malloc (an executable's definitions come
# first); before foreign.c the preloaded copy, which serves nothing, wrote
# an empty dump under the same name at exit, and record reported Total 0.
#  1. LD_PRELOAD=liballoc.so: <prefix>.<pid>.*.f.heap is the only file and
#     shows dual_fill within 10% of 64 MiB; stderr says once that the
#     preloaded copy does not serve malloc (naming dual_static).
#  2. jeprof-c record: says it does not preload (the program contains
#     liballoc: its note), and reports dual_fill within 10% of 64 MiB.
#  3. jeprof-c record through sh -c 'exec ...' (record cannot see the
#     program, so it preloads): still the real profile (the preloaded copy
#     keeps quiet), not Total 0.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/prof/lib_prof.sh"
[ -x "$JEPROF_C" ] || fail "$JEPROF_C not built (run make)"
prof_need dual_static
P=$PROF_OUT/dual_static
MIB=1048576
readelf -nW "$P" | grep -q "liballoc" || fail "$P carries no liballoc note (readelf -n)"

# dual_fill's flat bytes in jeprof-c --text output (0 if absent).
fill_of() { # text-report
    awk '$NF == "dual_fill" && $1 ~ /^[0-9.]+$/ {printf "%d\n", $1 * 1048576; f = 1} END {if (!f) print 0}' "$1"
}
near_64mib() { # bytes
    [ "$1" -ge $((64 * MIB * 9 / 10)) ] && [ "$1" -le $((64 * MIB * 11 / 10)) ]
}

# ---- 1. preloaded over the program's own copy ----
D=$TMP/preload
mkdir -p "$D"
pid=$(env MALLOC_CONF="prof:true,prof_final:true,lg_prof_sample:14,prof_prefix:$D/heap" \
    LD_PRELOAD="$LIB" "$P" 2>"$TMP/preload.err") || fail "dual_static under LD_PRELOAD failed: $(cat "$TMP/preload.err")"
cat "$TMP/preload.err"
f=$(one_file "final dump of pid $pid" "$D"/heap."$pid".*.f.heap) || exit 1
[ "$(ls "$D" | wc -l)" -eq 1 ] || fail "more than the one dump: $(ls "$D")"
"$JEPROF_C" --text --nodecount=10 "$P" "$f" >"$TMP/preload.txt" 2>&1 || fail "jeprof-c --text $f: $(cat "$TMP/preload.txt")"
b=$(fill_of "$TMP/preload.txt")
echo "final dump $(basename "$f"): dual_fill $b bytes"
near_64mib "$b" || fail "$(basename "$f"): dual_fill $b bytes, not within 10% of 64 MiB: $(head -3 "$TMP/preload.txt")"
n=$(grep -c "liballoc in .*liballoc\.so does not serve this process's malloc (.*dual_static does)" "$TMP/preload.err")
[ "$n" -eq 1 ] || fail "expected one notice from the preloaded copy, got $n"
echo "ok   preloaded: the program's own copy's dump, the preloaded copy quiet"

# ---- 2. record sees the static copy ----
cd "$TMP" || fail "cd $TMP"
env -u MALLOC_CONF "$JEPROF_C" record -o rec --lg-sample=14 -- "$P" >"$TMP/rec.out" 2>"$TMP/rec.err" ||
    fail "record failed: $(cat "$TMP/rec.err")"
cat "$TMP/rec.err"
grep -q "contains liballoc (linked statically): not preloading" "$TMP/rec.err" ||
    fail "record did not say it does not preload"
b=$(fill_of "$TMP/rec.out")
near_64mib "$b" || fail "record: dual_fill $b bytes, not within 10% of 64 MiB"
echo "ok   record: no preload, dual_fill $b bytes"

# ---- 3. record cannot see it (a shell in between): the runtime check ----
env -u MALLOC_CONF "$JEPROF_C" record -o rec2 --lg-sample=14 -- sh -c 'exec "$0"' "$P" \
    >"$TMP/rec2.out" 2>"$TMP/rec2.err" || fail "record via sh failed: $(cat "$TMP/rec2.err")"
cat "$TMP/rec2.err"
grep -q "not preloading" "$TMP/rec2.err" && fail "record looked through sh -c (this case must preload)"
b=$(fill_of "$TMP/rec2.out")
near_64mib "$b" || fail "record via sh: dual_fill $b bytes, not within 10% of 64 MiB (the preloaded copy's empty dump?)"
echo "ok   record via sh (preloaded): dual_fill $b bytes"
