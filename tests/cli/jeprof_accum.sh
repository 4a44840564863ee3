#!/usr/bin/env bash
# Cumulative counts (prof_accum:true) in every output mode: golden/accum.heap
# is a heap_v2 dump at lg_prof_sample 0 (period 1: values are exact) of
# golden/prog with known [alloc] pairs: main allocated 1000 objects / 64000
# B and freed them all (no live counts), path_two->hold 50 / 51200 (10 /
# 10240 live), path_one->...->helper 2 / 8192 (all live). --alloc_space and
# --alloc_objects must show those in --text, --traces, --tree, --peek,
# --callgrind, --collapsed, --json, --dot, --list, --flamegraph, --raw
# (read back) and --pprof (read back; its default_sample_type is the chosen
# column, checked with go tool pprof when Go is here). A dump written
# without prof_accum (every pair [0: 0], something live) is refused for
# --alloc_* with a message naming prof_accum, instead of an empty report;
# so is a pprof without alloc_* sample types.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
G=$ROOT/tests/cli/golden
status=0
bad() { echo "FAIL $*"; status=1; }
ok() { echo "ok   $*"; }
jc() { (cd "$G" && "$JEPROF_C" --quiet "$@"); }
H="prog accum.heap"

# check NAME OUTPUT REGEX...: every extended regex matches some line.
check() {
    local name=$1 out=$2; shift 2
    for re in "$@"; do
        grep -Eq -- "$re" <<<"$out" || { bad "$name: no line matching '$re'"; echo "$out" | head -15; return; }
    done
    ok "$name"
}

check "text alloc_space" "$(jc --text --alloc_space --show_bytes $H)" '^Total: 123392 B$' \
    '^ +64000 +51\.9% +51\.9% +123392 100\.0% main$' '^ +51200 .* hold \(inline\)$' '^ +8192 .* helper$'
check "text alloc_objects" "$(jc --text --alloc_objects $H)" '^Total: 1052 objects$' \
    '^ +1000 +95\.1% .* main$' '^ +50 +4\.8% .* hold \(inline\)$' '^ +2 +0\.2% .* helper$'
check "text inuse_space (the freed-only site is absent)" "$(jc --text --show_bytes $H)" '^Total: 18432 B$' \
    '^ +10240 .* hold \(inline\)$' '^ +8192 .* helper$' '^ +0 .* main$'
check "traces alloc_objects" "$(jc --traces --alloc_objects $H)" '^Type: alloc_objects$' '^ +1000 +main$' \
    '^ +50 +hold \(inline\)$' '^ +2 +helper$'
check "tree alloc_space" "$(jc --tree --alloc_space --show_bytes $H)" '^Type: alloc_space$' \
    '^ +64000 51\.87% 51\.87% +123392 +100% +\| main$'
check "peek alloc_objects" "$(jc --peek=^helper --alloc_objects $H)" '^ +2  0\.19%  0\.19% +2  0\.19% +\| helper$'
check "callgrind alloc_objects" "$(jc --callgrind --alloc_objects $H)" '^summary: 1052$' '^16 50$' '^24 2$'
check "collapsed alloc_space" "$(jc --collapsed --alloc_space $H)" '^_start;main 64000$' \
    '^_start;main;path_two;hold 51200$' '^_start;main;path_one;inlined_mid;helper 8192$'
check "json alloc_objects" "$(jc --json --alloc_objects $H)" '"type":"alloc_objects","unit":"objects","total":1052' \
    '\{"name":"main","flat":1000,"cum":1052\}'
check "dot alloc_space" "$(jc --dot --alloc_space --show_bytes $H)" 'Total bytes: 123392' 'main\\n64000 B \(51\.9%\)'
check "list alloc_space" "$(cd "$ROOT" && "$JEPROF_C" --quiet --list=path_two --alloc_space --show_bytes tests/cli/golden/prog tests/cli/golden/accum.heap)" \
    '^ 51200  51200 Total B' '^ 51200  51200 +45: '
jc --alloc_objects --flamegraph="$WORK/fg.svg" $H >/dev/null || bad "flamegraph exit"
check "flamegraph alloc_objects" "$(cat "$WORK/fg.svg")" '<title>all \(1,052 objects, 100%\)</title>' \
    '<title>main \(1,052 objects'
jc --raw $H >"$WORK/raw.txt" || bad "raw exit"
check "raw read back alloc_space" "$("$JEPROF_C" --quiet --alloc_space --show_bytes "$WORK/raw.txt")" \
    '^Total: 123392 B$' '^ +64000 .* main$'
jc --alloc_space --pprof="$WORK/a.pb.gz" $H >/dev/null || bad "pprof exit"
check "pprof read back alloc_objects" "$("$JEPROF_C" --quiet --alloc_objects "$WORK/a.pb.gz")" \
    '^Total: 1052 objects$' '^ +1000 .* main$'
if command -v go >/dev/null 2>&1; then
    top=$(HOME=$WORK GOFLAGS=-mod=mod timeout 300 go tool pprof -top "$WORK/a.pb.gz" 2>&1)
    check "go tool pprof opens --alloc_space's pprof on alloc_space" "$top" '^Type: alloc_space$'
    jc --alloc_objects --pprof="$WORK/o.pb.gz" $H >/dev/null
    top=$(HOME=$WORK timeout 300 go tool pprof -top "$WORK/o.pb.gz" 2>&1)
    check "go tool pprof opens --alloc_objects's pprof on alloc_objects" "$top" '^Type: alloc_objects$'
fi

# No cumulative counts: refused for --alloc_*, not an empty report.
for v in alloc_space alloc_objects; do
    err=$(jc --text --$v prog prog.heap 2>&1 >/dev/null); rc=$?
    [ $rc = 1 ] && grep -q "^error: 'prog.heap': this dump has no cumulative counts for --$v: run with prof_accum:true$" <<<"$err" &&
        ok "no accum refused for --$v" || { bad "no accum for --$v: exit $rc"; echo "$err"; }
done
jc --text --inuse_space prog prog.heap >/dev/null && ok "no accum: --inuse_space still fine" || bad "inuse refused"
# The same in a --growth series (it printed an empty table and exit 0).
cp "$G/prog.heap" "$WORK/g1.heap"
cp "$G/prog.heap" "$WORK/g2.heap"
err=$(jc --growth --alloc_space prog "$WORK/g1.heap" "$WORK/g2.heap" 2>&1 >/dev/null); rc=$?
[ $rc = 1 ] && grep -q "^error: '$WORK/g1.heap': this dump has no cumulative counts for --alloc_space: run with prof_accum:true$" <<<"$err" &&
    ok "no accum refused for --growth --alloc_space" || { bad "no accum for --growth --alloc_space: exit $rc"; echo "$err"; }
jc --growth --inuse_space prog "$WORK/g1.heap" "$WORK/g2.heap" >/dev/null && ok "no accum: --growth --inuse_space still fine" ||
    bad "--growth --inuse_space refused"
# An empty dump ([0: 0] everywhere, nothing live) is not refused: it cannot tell.
printf 'heap_v2/524288\n  t*: 0: 0 [0: 0]\n\nMAPPED_LIBRARIES:\n' >"$WORK/empty.heap"
"$JEPROF_C" --quiet --alloc_space "$WORK/empty.heap" | grep -qx 'Total: 0.0 MB' && ok "empty dump with --alloc_space" ||
    bad "empty dump with --alloc_space"
# A pprof heap profile with only inuse_* sample types (one sample, no stack).
python3 - "$WORK/inuse.pb" <<'PY'
import sys
def varint(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)
def field(num, wt, v):
    return varint(num << 3 | wt) + (varint(v) if wt == 0 else varint(len(v)) + v)
strings = ["", "inuse_objects", "count", "inuse_space", "bytes"]
p = field(1, 2, field(1, 0, 1) + field(2, 0, 2)) + field(1, 2, field(1, 0, 3) + field(2, 0, 4))
p += field(2, 2, field(2, 2, varint(3) + varint(300)))
for s in strings:
    p += field(6, 2, s.encode())
open(sys.argv[1], "wb").write(p)
PY
"$JEPROF_C" --quiet --inuse_space --show_bytes "$WORK/inuse.pb" | grep -qx 'Total: 300 B' && ok "inuse-only pprof read" ||
    bad "inuse-only pprof not read"
err=$("$JEPROF_C" --quiet --alloc_space "$WORK/inuse.pb" 2>&1 >/dev/null); rc=$?
[ $rc = 1 ] && grep -q "this dump has no cumulative counts for --alloc_space: the profile has no alloc_space or alloc_objects sample type" <<<"$err" &&
    ok "inuse-only pprof refused for --alloc_space" || { bad "inuse-only pprof with --alloc_space: exit $rc"; echo "$err"; }
exit $status
