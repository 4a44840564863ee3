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
#  4. dual_plugin (links libdual_plugin.so, a plugin with its own copy that
#     serves only the plugin's mallocx calls) under LD_PRELOAD=liballoc.so:
#     both copies sampled, so both dumps are kept, under different names:
#     <prefix>.<pid>.0.f.heap (the preloaded copy: dual_fill, 64 MiB, no
#     dual_plugin_fill) and <prefix>.libdual_plugin.so.<pid>.0.f.heap
#     (dual_plugin_fill within 10% of 32 MiB, no dual_fill); stderr says
#     once that the plugin's copy renamed its dumps.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/prof/lib_prof.sh"
[ -x "$JEPROF_C" ] || fail "$JEPROF_C not built (run make)"
prof_need dual_static
prof_need dual_plugin
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

# ---- 4. a plugin with its own copy: both profiles kept ----
D=$TMP/plugin
mkdir -p "$D"
PL=$PROF_OUT/dual_plugin
pid=$(env MALLOC_CONF="prof:true,prof_final:true,lg_prof_sample:14,prof_prefix:$D/heap" \
    LD_PRELOAD="$LIB" "$PL" 2>"$TMP/plugin.err") || fail "dual_plugin under LD_PRELOAD failed: $(cat "$TMP/plugin.err")"
cat "$TMP/plugin.err"
[ "$(ls "$D" | sort | tr '\n' ' ')" = "heap.$pid.0.f.heap heap.libdual_plugin.so.$pid.0.f.heap " ] ||
    fail "expected heap.$pid.0.f.heap and heap.libdual_plugin.so.$pid.0.f.heap, found: $(ls "$D" | tr '\n' ' ')"
"$JEPROF_C" --text --nodecount=10 "$PL" "$D/heap.$pid.0.f.heap" >"$TMP/main.txt" 2>&1 || fail "jeprof-c: $(cat "$TMP/main.txt")"
"$JEPROF_C" --text --nodecount=10 "$PL" "$D/heap.libdual_plugin.so.$pid.0.f.heap" >"$TMP/plug.txt" 2>&1 ||
    fail "jeprof-c: $(cat "$TMP/plug.txt")"
b=$(fill_of "$TMP/main.txt")
near_64mib "$b" || fail "the serving copy's dump: dual_fill $b bytes, not within 10% of 64 MiB"
grep -q ' dual_plugin_fill$' "$TMP/main.txt" && fail "the serving copy's dump shows the plugin's allocations"
pb=$(awk '$NF == "dual_plugin_fill" && $1 ~ /^[0-9.]+$/ {printf "%d\n", $1 * 1048576; f = 1} END {if (!f) print 0}' "$TMP/plug.txt")
[ "$pb" -ge $((32 * MIB * 9 / 10)) ] && [ "$pb" -le $((32 * MIB * 11 / 10)) ] ||
    fail "the plugin copy's dump: dual_plugin_fill $pb bytes, not within 10% of 32 MiB"
grep -q ' dual_fill$' "$TMP/plug.txt" && fail "the plugin copy's dump shows the program's malloc"
n=$(grep -c "liballoc in .*libdual_plugin\.so does not serve this process's malloc (.*liballoc\.so does) but sampled" "$TMP/plugin.err")
[ "$n" -eq 1 ] || fail "expected one notice from the plugin's copy, got $n"
echo "ok   plugin copy: both profiles kept (dual_fill $b, dual_plugin_fill $pb bytes)"
