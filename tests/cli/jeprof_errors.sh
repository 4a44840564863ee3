#!/usr/bin/env bash
# Bad input never crashes jeprof-c: a missing, empty, truncated or corrupt
# file, an unknown format or a missing program gives one "error: ..." line
# naming the file and exit 1; bad usage prints the usage and exits 2.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
G=$ROOT/tests/cli/golden
status=0
expect() { # exit-code stderr-regex args...
    local want=$1 re=$2; shift 2
    "$JEPROF_C" --quiet "$@" >"$WORK/out" 2>"$WORK/err"
    local rc=$?
    if [ $rc -ne "$want" ] || ! grep -Eq "$re" "$WORK/err"; then
        echo "FAIL: jeprof-c $*: exit $rc (want $want), stderr:"; cat "$WORK/err"; status=1
    elif [ "$want" = 1 ] && [ "$(wc -l <"$WORK/err")" != 1 ]; then
        echo "FAIL: jeprof-c $*: more than one line on stderr"; cat "$WORK/err"; status=1
    else
        echo "ok   exit $rc: $(head -n 1 "$WORK/err")"
    fi
}
cd "$WORK"
head -c 700 "$G/prog.heap" >cut.heap                      # cut inside the stacks
head -c $(($(wc -c <"$G/prog.heap") - 20)) "$G/prog.heap" >cut2.heap   # inside the maps
: >empty.heap
sed 's/^@ 0x/@ 0xzz/' "$G/prog.heap" >badaddr.heap
sed 's/t\*: 34: 702997/t*: 34 702997/' "$G/prog.heap" >badcount.heap
printf 'heap_v2/x\n' >badrate.heap
echo "just some text" >notes.txt
head -c 300 /dev/urandom >random.bin; printf '\x12\xff\xff\xff\xff\x0f' >>random.bin
(cd "$G" && "$JEPROF_C" --quiet --pprof="$WORK/ok.pb.gz" prog prog.heap >/dev/null)
gzip -dc ok.pb.gz >ok.pb
head -c $(($(wc -c <ok.pb.gz) / 2)) ok.pb.gz >cut.pb.gz   # truncated gzip
head -c $(($(wc -c <ok.pb) / 2)) ok.pb >cut.pb             # truncated protobuf
printf '{"recent_alloc":[{"usize":1,' >cut.json
printf '{"recent_alloc":[{"usize":1,"alloc_trace":["zz"]}]}' >bad.json

expect 1 "^error: 'nosuch.heap': No such file"          nosuch.heap
expect 1 "^error: 'empty.heap': empty profile"            empty.heap
expect 1 "^error: 'cut.heap': .*truncated"                cut.heap
expect 1 "^error: 'cut2.heap': .*truncated"               cut2.heap
expect 1 "^error: 'badaddr.heap': line [0-9]+: "          badaddr.heap
expect 1 "^error: 'badcount.heap': line [0-9]+: "         badcount.heap
expect 1 "^error: 'badrate.heap': line 1: "               badrate.heap
expect 1 "^error: 'notes.txt': unknown profile format"    notes.txt
expect 1 "^error: 'random.bin': "                         random.bin
expect 1 "^error: 'cut.pb.gz': corrupt or truncated gzip" cut.pb.gz
expect 1 "^error: 'cut.pb': corrupt pprof"                cut.pb
expect 1 "^error: 'cut.json': JSON offset"                cut.json
expect 1 "^error: 'bad.json': recent_alloc\[0\]"          bad.json
expect 1 "^error: '.*': Is a directory"                   "$WORK"
expect 1 "^error: 'nosuch.heap': No such file"          --base=nosuch.heap "$G/prog.heap"
expect 1 "^error: cannot open program './no-such-prog'"   ./no-such-prog "$G/prog.heap"
# A pprof file whose messages would take far more memory than its size
# (10M empty samples: 20 MB, 20 KB gzip'd; 1.25 GB before): refused within
# 16 times its size and 64 MiB.
python3 -c "import gzip; open('amp.pb.gz', 'wb').write(gzip.compress(b'\x12\x00' * (10 << 20), 9))"
expect 1 "^error: 'amp.pb.gz': corrupt pprof profile: its messages need more than [0-9]+ bytes of memory, 16 times" amp.pb.gz
# Our dumps end with "# time_ns": one cut at a line boundary after its
# "# build_id" lines is read, with a warning (its maps may be incomplete).
{ cat "$G/prog.heap"; echo "# build_id 0x400000 0123456789abcdef"; } >ours_cut.heap
{ cat ours_cut.heap; echo "# time_ns 1700000000000000000"; } >ours_whole.heap
for f in ours_cut ours_whole; do
    "$JEPROF_C" --text $f.heap >/dev/null 2>$f.err || { cat $f.err; echo "FAIL: $f.heap refused"; status=1; }
done
grep -q "^warning: 'ours_cut.heap': the dump has no closing '# time_ns' line" ours_cut.err ||
    { cat ours_cut.err; echo "FAIL: no warning for a dump of ours cut in its maps"; status=1; }
grep -q "time_ns" ours_whole.err && { cat ours_whole.err; echo "FAIL: a whole dump warned about"; status=1; }
echo "ok   a dump of ours without its closing line: read, with a warning"
expect 1 "^error: bad --focus regex"                      --focus='(' "$G/prog.heap"
expect 2 "^usage: jeprof-c"                               --no-such-option "$G/prog.heap"
expect 2 "^usage: jeprof-c"
expect 2 "expects an integer"                             --nodecount=x "$G/prog.heap"
exit $status
