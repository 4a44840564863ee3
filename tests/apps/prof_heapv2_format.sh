#!/usr/bin/env bash
# prof_heapv2_format: heap_v2 dumps, their names and the prof.* controls
# behave as in jemalloc 5.3 (specs/jemalloc-interface.md §1, §4). Scenarios
# come from tests/prof/heapv2.c; most run at lg_prof_sample:0, where every
# allocation is sampled with weight 1, so counts are exact:
#  - format: grammar (tests/prof/heapv2_check.awk: heap_v2/<2^lg>, "  t*: c:
#    b [0: 0]", per-thread header lines, "@ 0x.." blocks, per-thread block
#    lines, MAPPED_LIBRARIES), totals add up, thread.prof.name names appear
#    on the header line of the right thread uid, each site's block holds
#    its exact "objects: bytes" under that thread, jeprof and jeprof-c read
#    the exact bytes per function; no sampled stack runs through
#    liballoc.so (its own allocations are not charged to the program);
#  - prof_unwind:libunwind and prof_unwind:fp (program built with frame
#    pointers) attribute the same exact bytes to the same functions;
#  - prof_accum:true: non-zero [a: b] pairs, a freed-only site kept as
#    "0: 0 [9: 4608]";
#  - file names .m0./.m1. (prof.dump NULL), explicit prof.dump uses no
#    counter, .i<N>. (lg_prof_interval:20 over 8 MiB -> 7..9 dumps),
#    .u<N>. (prof_gdump), .f. last; one shared seq counter 0..n-1;
#  - empty prof_prefix: no automatic dump, prof.dump(NULL) EFAULT;
#    prof.prefix at run time; prof.dump into a missing directory EFAULT
#    and no file; no *.tmp.* file left anywhere;
#  - after prof.reset, prof_leak's summary on stderr counts exactly the
#    3 MiB left allocated, prof_leak_error exits 1 on that leak and 0 when
#    everything was freed; the w/o prof_final warning;
#  - prof.active=false adds no site, prof.reset zeroes counts (and old
#    blocks freed later do not disturb new ones; lg changes), one thread
#    with thread.prof.active=false is not sampled; prof_sys_thread_name
#    puts the pthread name on the thread's header line;
#    prof_thread_active_init:false samples nothing;
#  - without prof:true, as in jemalloc 5.3 (src/ctl.c): every name that
#    needs the profiler (prof.dump, prof.prefix, prof.reset,
#    thread.prof.name, experimental.prof_recent.*) and every write of true
#    is ENOENT; the switches (prof.active, prof.gdump,
#    prof.thread_active_init, thread.prof.active) read false, prof.lg_sample
#    and prof.interval are readable; no file is written.
# PROF_TEST_LIB=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 runs the same
# checks against Debian's jemalloc 5.3: all pass there (jemalloc ignores
# the prof_unwind option with a message and uses its own unwinder).
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/prof/lib_prof.sh"
need jeprof
[ -x "$JEPROF_C" ] || fail "$JEPROF_C not built (run make)"
prof_need heapv2
prof_need heapv2_fp
H=$PROF_OUT/heapv2
AWKCHECK=$ROOT/tests/prof/heapv2_check.awk
status=0
bad() { echo "FAIL: $*"; status=1; }

# Run a scenario in its own directory (also the working directory).
# Sets D (the directory), OUT, ERR, RC.
scenario() { # name conf mode
    D=$TMP/$1
    mkdir -p "$D"
    OUT=$D/.stdout ERR=$D/.stderr
    (cd "$D" && timeout 300 env LD_PRELOAD="$LIB" MALLOC_CONF="$2" "$H" "$3" "$D") >"$OUT" 2>"$ERR"
    RC=$?
    echo "--- $1 [$2] $3: exit $RC"
    grep -v '^pid ' "$OUT"
    [ -s "$ERR" ] && sed 's/^/  stderr: /' "$ERR"
    return 0
}
expect_ok() { # mode
    [ $RC -eq 0 ] && grep -qx "ok $1" "$OUT" || bad "scenario $1: exit $RC, no 'ok $1'"
}
# Flat bytes per function from jeprof --text --show_bytes.
flat_of() { # tool file function [program]
    local out
    out=$("$1" --text --show_bytes "${4:-$H}" "$2" 2>&1) || { echo "(failed: $(echo "$out" | tail -1))"; return; }
    awk -v f="$3" '$6 == f && NF == 6 { print $1; found = 1 } END { if (!found) print "absent" }' <<<"$out"
}
expect_flat() { # file function bytes
    local t v
    for t in jeprof "$JEPROF_C"; do
        v=$(flat_of "$t" "$1" "$2")
        [ "$v" = "$3" ] || bad "$(basename "$t") on $(basename "$1"): $2 flat is $v, want $3"
    done
}
# The counts line under the block whose t* line is exactly "c: b [x: y]".
block_uids() { # file "c: b [x: y]" -> uids of the t<uid> lines in such blocks
    awk -v want="  t*: $2" '/^MAPPED_LIBRARIES:/ { exit } /^@/ { inb = 0 } $0 == want { inb = 1; n++; next }
         inb && /^  t[0-9]+: / { print substr($1, 2, length($1) - 2) }' "$1"
}
header_uid() { # file name -> uid of the header line carrying that thread name
    awk -v name="$2" 'NR > 2 && /^@/ { exit } NR > 2 && /^  t[0-9]+: / {
        line = $0; sub(/^  t[0-9]+: [0-9]+: [0-9]+ \[[0-9]+: [0-9]+\] /, "", line)
        if (line == name) print substr($1, 2, length($1) - 2) }' "$1"
}

# --- format ---
scenario format "prof:true,lg_prof_sample:0" format
expect_ok format
F=$D/format.heap
if [ -f "$F" ]; then
    awk -v exact=1 -f "$AWKCHECK" "$F" || bad "format.heap is not well-formed heap_v2"
    [ "$(head -1 "$F")" = "heap_v2/1" ] || bad "first line $(head -1 "$F"), want heap_v2/1"
    sed -n 2p "$F" | grep -Eq '^  t\*: [1-9][0-9]*: [1-9][0-9]* \[0: 0\]$' || bad "header total line: $(sed -n 2p "$F")"
    for spec in "main-thread|5: 15360 [0: 0]" "worker-A|7: 14336 [0: 0]" "worker B|11: 28160 [0: 0]"; do
        name=${spec%%|*} cnt=${spec#*|}
        uid=$(header_uid "$F" "$name")
        [ "$(echo "$uid" | grep -c .)" -eq 1 ] || { bad "thread name '$name': header lines with it: '$uid'"; continue; }
        uids=$(block_uids "$F" "$cnt")
        [ "$uids" = "$uid" ] || bad "block '  t*: $cnt' should hold one line for thread $uid ($name), has: '$uids'"
    done
    grep -q '^  t[0-9]*: .*worker-A' "$F" && ! sed -n '/^@/,$p' "$F" | grep -q 'worker-A' || bad "thread name outside the header"
    grep -q ' 9: 4608 ' "$F" && bad "freed site_accum still listed without prof_accum"
    grep -qF "$H" "$F" || bad "MAPPED_LIBRARIES does not list the program $H"
    grep -qF "$LIB" "$F" || bad "MAPPED_LIBRARIES does not list $LIB"
    expect_flat "$F" site_main 15360
    expect_flat "$F" site_worker_a 14336
    expect_flat "$F" site_worker_b 28160
    expect_flat "$F" site_accum absent
else
    bad "no format.heap"
fi

# --- prof_unwind: both stack walkers give the same sites (the fp walker
# on a program built with frame pointers) ---
for unwind in libunwind fp; do
    h=$H
    [ $unwind = fp ] && h=$PROF_OUT/heapv2_fp
    D=$TMP/unwind_$unwind
    mkdir -p "$D"
    (cd "$D" && timeout 300 env LD_PRELOAD="$LIB" MALLOC_CONF="prof:true,lg_prof_sample:0,prof_unwind:$unwind" "$h" format "$D") >"$D/.stdout" 2>&1 ||
        bad "prof_unwind:$unwind: $(cat "$D/.stdout")"
    F=$D/format.heap
    [ -f "$F" ] || { bad "prof_unwind:$unwind: no dump"; continue; }
    awk -v exact=1 -f "$AWKCHECK" "$F" || bad "prof_unwind:$unwind: dump is not well-formed"
    for spec in site_main:15360 site_worker_a:14336 site_worker_b:28160; do
        v=$(flat_of jeprof "$F" "${spec%%:*}" "$h")
        [ "$v" = "${spec#*:}" ] || bad "prof_unwind:$unwind: jeprof gives ${spec%%:*} flat $v, want ${spec#*:}"
    done
done

# No sampled stack runs through liballoc.so itself: its own frames are cut
# from the top of each stack, so a liballoc pc left in a stack means an
# allocation made by the allocator (e.g. loading libnuma) was sampled and
# would be charged to the program (and count as a leak). (liballoc only:
# jemalloc keeps its own frames on top.)
if [ -z "${PROF_TEST_LIB:-}" ] && [ -f "$TMP/format/format.heap" ]; then
    awk -v lib="$LIB" '
        function hex(s,   i, c, v) { v = 0; s = tolower(s); sub(/^0x/, "", s)
            for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)) - 1; v = v * 16 + c }
            return v }
        /^MAPPED_LIBRARIES:/ { maps = 1; next }
        !maps && /^@/ { st[++n] = $0; next }
        maps && $2 ~ /x/ && $6 == lib { split($1, r, "-"); lo[++m] = hex(r[1]); hi[m] = hex(r[2]) }
        END {
            if (m == 0) { print "FAIL: " lib " not in MAPPED_LIBRARIES"; exit 1 }
            for (i = 1; i <= n; i++) {
                k = split(st[i], f, " ")
                for (j = 2; j <= k; j++) { v = hex(f[j]); for (q = 1; q <= m; q++) if (v >= lo[q] && v < hi[q]) {
                    print "FAIL: a sampled stack runs through " lib " (frame " j - 1 "): " substr(st[i], 1, 200); bad = 1; break } }
            }
            exit bad
        }' "$TMP/format/format.heap" || bad "allocations made by the allocator itself were sampled (see above)"
fi

# --- prof_accum ---
scenario accum "prof:true,lg_prof_sample:0,prof_accum:true" format
expect_ok format
F=$D/format.heap
if [ -f "$F" ]; then
    awk -v exact=1 -v accum=1 -f "$AWKCHECK" "$F" || bad "prof_accum dump is not well-formed"
    sed -n 2p "$F" | grep -Eq '^  t\*: [0-9]+: [0-9]+ \[[1-9][0-9]*: [1-9][0-9]*\]$' || bad "prof_accum: header pair is zero: $(sed -n 2p "$F")"
    [ -n "$(block_uids "$F" "0: 0 [9: 4608]")" ] || bad "prof_accum: no block '  t*: 0: 0 [9: 4608]' for the freed site_accum"
    [ -n "$(block_uids "$F" "5: 15360 [5: 15360]")" ] || bad "prof_accum: no block '  t*: 5: 15360 [5: 15360]' for site_main"
else
    bad "no format.heap (prof_accum)"
fi

# --- file names ---
scenario names "prof:true,lg_prof_sample:10,prof_final:true,prof_prefix:$TMP/names/n,lg_prof_interval:20,prof_gdump:true" names
expect_ok names
pid=$(awk '$1 == "pid" { print $2 }' "$OUT")
[ -f "$D/explicit.heap" ] || bad "prof.dump(explicit.heap) wrote nothing"
ls "$D" | grep -v '^explicit\.heap$' >"$TMP/names.list"
awk -v pid="$pid" '
    { if ($0 !~ "^n\\." pid "\\.[0-9]+\\.(f|[miu][0-9]+)\\.heap$") { print "FAIL: unexpected file " $0; bad = 1; next }
      split($0, a, "."); seq = a[3]; kind = a[4]
      if (seq in s) { print "FAIL: seq " seq " used twice"; bad = 1 }
      s[seq] = kind; n++ }
    END {
        for (i = 0; i < n; i++) {
            if (!(i in s)) { print "FAIL: seq " i " missing (seqs must be 0.." n - 1 ")"; bad = 1; continue }
            k = s[i]
            if (k == "f") { if (i != n - 1) { print "FAIL: the final dump has seq " i ", not the last"; bad = 1 }; nf++; continue }
            c = substr(k, 1, 1); num = substr(k, 2)
            if (num != cnt[c] + 0) { print "FAIL: seq " i " is " k ", expected " c cnt[c] + 0; bad = 1 }
            cnt[c]++
        }
        printf "names: %d files: m %d, i %d, u %d, f %d\n", n, cnt["m"], cnt["i"], cnt["u"], nf
        if (cnt["m"] != 2) { print "FAIL: " cnt["m"] + 0 " m dumps, want 2 (m0, m1)"; bad = 1 }
        if (cnt["i"] < 7 || cnt["i"] > 9) { print "FAIL: " cnt["i"] + 0 " interval dumps for 8 MiB at lg_prof_interval:20, want 7..9"; bad = 1 }
        if (cnt["u"] < 1) { print "FAIL: no gdump (.u) dump with prof_gdump:true"; bad = 1 }
        if (nf != 1) { print "FAIL: " nf + 0 " final dumps"; bad = 1 }
        exit bad
    }' "$TMP/names.list" || status=1
for f in "$D"/n.*.heap "$D/explicit.heap"; do
    [ -f "$f" ] || continue
    [ "$(head -1 "$f")" = "heap_v2/1024" ] || bad "$(basename "$f"): first line $(head -1 "$f")"
    awk -f "$AWKCHECK" "$f" >/dev/null || { awk -f "$AWKCHECK" "$f"; bad "$(basename "$f") is not well-formed"; }
done
# An explicit prof.dump between the two prof.dump(NULL) calls takes no seq.
m0=$(ls "$D" | grep "\.m0\.heap$") m1=$(ls "$D" | grep "\.m1\.heap$")
s0=$(echo "$m0" | cut -d. -f3) s1=$(echo "$m1" | cut -d. -f3)
[ -n "$s0" ] && [ "$s1" = $((s0 + 1)) ] ||
    bad "prof.dump(NULL), explicit prof.dump, prof.dump(NULL) gave '$m0' '$m1': seqs must be consecutive"

# --- empty prefix ---
scenario empty "prof:true,lg_prof_sample:10,prof_final:true,prof_prefix:,lg_prof_interval:20,prof_gdump:true" empty
expect_ok empty
[ -z "$(ls -A "$D" | grep -v '^\.std')" ] || { ls -la "$D"; bad "empty prof_prefix: files were written"; }

scenario prefix "prof:true,prof_final:true,prof_prefix:$TMP/prefix/p" prefix
expect_ok prefix
pid=$(awk '$1 == "pid" { print $2 }' "$OUT")
got=$(ls "$D" | tr '\n' ' ')
[ "$got" = "renamed.$pid.0.m0.heap renamed.$pid.1.f.heap " ] ||
    bad "prof.prefix: files are '$got', want renamed.$pid.0.m0.heap renamed.$pid.1.f.heap"

# --- failed dump ---
scenario badpath "prof:true" badpath
expect_ok badpath
[ ! -e "$D/missing" ] || bad "$D/missing was created"
got=$(ls "$D" | tr '\n' ' ')
[ "$got" = "ok.heap " ] || bad "after a failed prof.dump the directory holds '$got', want only ok.heap"

# --- leaks (the scenario calls prof.reset first, so only its own 3 x 1 MiB
# can be live at exit) ---
scenario leak "prof:true,lg_prof_sample:0,prof_final:true,prof_prefix:$TMP/leak/l,prof_leak:true" leak
[ $RC -eq 0 ] || bad "prof_leak (no _error): exit $RC, want 0"
grep -qx '<jemalloc>: Leak approximation summary: ~3145728 bytes, ~3 objects, >= [1-3] contexts\?' "$ERR" ||
    bad "prof_leak: no leak summary '~3145728 bytes, ~3 objects, >= 1..3 contexts' on stderr"
grep -qx '<jemalloc>: Run jeprof on dump output for leak detail' "$ERR" || bad "prof_leak: no 'Run jeprof' line"
[ "$(flat_of jeprof "$(ls "$D"/l.*.f.heap 2>/dev/null | head -1)" site_leak)" = 3145728 ] ||
    bad "prof_leak: the final dump does not show site_leak 3145728"

scenario leak_error "prof:true,lg_prof_sample:0,prof_final:true,prof_prefix:$TMP/leak_error/l,prof_leak_error:true" leak
[ $RC -eq 1 ] || bad "prof_leak_error with a leak: exit $RC, want 1"
grep -q '^<jemalloc>: Leak approximation summary: ~3145728 bytes' "$ERR" || bad "prof_leak_error: no leak summary"

scenario noleak "prof:true,lg_prof_sample:0,prof_final:true,prof_prefix:$TMP/noleak/l,prof_leak_error:true" noleak
if [ $RC -ne 0 ] || grep -q 'Leak approximation' "$ERR"; then
    bad "prof_leak_error on a program that frees everything: exit $RC (want 0), leak summary: $(grep -c 'Leak approximation' "$ERR"); live in its final dump:"
    jeprof --text --show_bytes "$H" "$D"/l.*.f.heap 2>&1 | head -24
fi

scenario leak_nofinal "prof:true,prof_leak_error:true" noleak
grep -qx '<jemalloc>: prof_leak_error is set w/o prof_final.' "$ERR" || bad "no 'prof_leak_error is set w/o prof_final.' warning"

# --- prof.active ---
scenario active "prof:true,lg_prof_sample:0" active
expect_ok active
a=$D/a.heap b=$D/b.heap c=$D/c.heap
if [ -f "$a" ] && [ -f "$b" ] && [ -f "$c" ]; then
    new=$(comm -13 <(grep '^@' "$a" | sort) <(grep '^@' "$b" | sort) | wc -l)
    [ "$new" -eq 0 ] || bad "prof.active=false: dump b has $new stacks that a does not"
    [ "$(sed -n 2p "$a")" = "$(sed -n 2p "$b")" ] || bad "prof.active=false: totals changed: a '$(sed -n 2p "$a")', b '$(sed -n 2p "$b")'"
    expect_flat "$b" site_inactive absent
    expect_flat "$c" site_inactive absent
    expect_flat "$c" site_after 17408
    expect_flat "$c" site_before 13312
else
    bad "prof.active scenario wrote no a/b/c dumps"
fi

# --- prof.reset ---
scenario reset "prof:true,lg_prof_sample:0" reset
expect_ok reset
if [ -f "$D/r4.heap" ]; then
    expect_flat "$D/r1.heap" site_pre_reset 10240
    [ "$(head -2 "$D/r2.heap" | tr '\n' '|')" = "heap_v2/1|  t*: 0: 0 [0: 0]|" ] || bad "after prof.reset: $(head -2 "$D/r2.heap" | tr '\n' '|')"
    [ "$(grep -c '^@' "$D/r2.heap")" -eq 0 ] || bad "after prof.reset the dump still has stacks"
    [ "$(head -2 "$D/r3.heap" | tr '\n' '|')" = "heap_v2/1|  t*: 3: 3072 [0: 0]|" ] ||
        bad "after prof.reset, freeing the old blocks and 3 new 1 KiB ones: $(head -2 "$D/r3.heap" | tr '\n' '|')"
    expect_flat "$D/r3.heap" site_post_reset 3072
    expect_flat "$D/r3.heap" site_pre_reset absent
    [ "$(head -2 "$D/r4.heap" | tr '\n' '|')" = "heap_v2/4096|  t*: 0: 0 [0: 0]|" ] || bad "after prof.reset(12): $(head -2 "$D/r4.heap" | tr '\n' '|')"
    for f in "$D"/r?.heap; do awk -v exact=1 -f "$AWKCHECK" "$f" >/dev/null || bad "$(basename "$f") is not well-formed"; done
else
    bad "prof.reset scenario wrote no r4 dump"
fi

# --- thread.prof.active ---
scenario threadactive "prof:true,lg_prof_sample:0" threadactive
expect_ok threadactive
if [ -f "$D/t.heap" ]; then
    expect_flat "$D/t.heap" site_loud 204800
    expect_flat "$D/t.heap" site_quiet absent
else
    bad "no t.heap"
fi

# --- prof_sys_thread_name, prof_thread_active_init ---
scenario sysname "prof:true,lg_prof_sample:0,prof_sys_thread_name:true" sysname
expect_ok sysname
if [ -f "$D/sys.heap" ]; then
    uid=$(header_uid "$D/sys.heap" "sysname-thr")
    [ -n "$uid" ] && [ "$(block_uids "$D/sys.heap" "9: 36864 [0: 0]")" = "$uid" ] ||
        bad "prof_sys_thread_name: the pthread name is not on the header line of the thread (uid '$uid') holding '9: 36864'"
else
    bad "no sys.heap"
fi
scenario activeinit "prof:true,lg_prof_sample:0,prof_thread_active_init:false" sysname
expect_ok sysname
[ "$(head -2 "$D/sys.heap" 2>/dev/null | tr '\n' '|')" = "heap_v2/1|  t*: 0: 0 [0: 0]|" ] ||
    bad "prof_thread_active_init:false still sampled: $(head -2 "$D/sys.heap" 2>/dev/null | tr '\n' '|')"

# --- without prof:true ---
D=$TMP/noprof
mkdir -p "$D"
(cd "$D" && timeout 300 env -u MALLOC_CONF LD_PRELOAD="$LIB" "$H" noprof "$D") >"$D/.stdout" 2>&1
RC=$?
echo "--- noprof: exit $RC"
grep -v '^pid ' "$D/.stdout"
[ $RC -eq 0 ] && grep -qx 'ok noprof' "$D/.stdout" || bad "prof.* mallctls without prof:true (see above)"
[ -z "$(ls -A "$D" | grep -v '^\.std')" ] || bad "files written without prof:true"

# --- no temporary files anywhere ---
tmps=$(find "$TMP" -name '*.tmp.*')
[ -z "$tmps" ] || bad "temporary dump files left behind: $tmps"

[ $status -eq 0 ] || fail "see above"
echo "PASS"
