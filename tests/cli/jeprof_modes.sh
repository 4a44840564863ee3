#!/usr/bin/env bash
# jeprof's and pprof's other modes in jeprof-c: --traces, --tree, --peek,
# --callgrind, --raw, --list, --disasm, --version, and the zero total of an
# empty profile in every text mode. Pinned by expected files (golden/modes_*,
# from golden/prog and golden/prog.heap, see jeprof_golden.sh), then checked
# by independent readers where this machine has them: callgrind_annotate
# reads --callgrind, Debian's jeprof reads --raw back, Debian's jeprof lists
# and disassembles a fresh jemalloc dump of a C program as jeprof-c does, and
# go tool pprof's -traces and -tree agree with ours on our own pprof export.
# UPDATE_GOLDEN=1 rewrites the expected files.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
G=$ROOT/tests/cli/golden
status=0
bad() { echo "FAIL $*"; status=1; }
# run_case NAME DIR args...: runs jeprof-c in DIR, compares with golden/NAME.expected.
run_case() {
    local name=$1 dir=$2; shift 2
    (cd "$dir" && "$JEPROF_C" --quiet "$@") >"$WORK/$name.out" 2>"$WORK/$name.err" ||
        { bad "$name: exit $?"; cat "$WORK/$name.err"; return; }
    if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then cp "$WORK/$name.out" "$G/$name.expected"; fi
    if cmp -s "$WORK/$name.out" "$G/$name.expected"; then
        echo "ok   $name"
    else
        bad "$name"; diff "$G/$name.expected" "$WORK/$name.out" | head -20
    fi
}
P="tests/cli/golden/prog tests/cli/golden/prog.heap" # from $ROOT: sources resolve
run_case modes_traces        "$G" --traces --show_bytes prog prog.heap
run_case modes_traces_lines  "$G" --traces --show_bytes --lines prog prog.heap
run_case modes_tree          "$G" --tree --show_bytes prog prog.heap
run_case modes_tree_objects  "$G" --tree --inuse_objects --cum --nodecount=3 prog prog.heap
run_case modes_peek          "$G" --peek=^path --show_bytes prog prog.heap
run_case modes_callgrind     "$G" --callgrind prog prog.heap
run_case modes_callgrind_focus "$G" --callgrind --focus=recurse prog prog.heap
run_case modes_raw           "$G" --raw prog prog.heap
run_case modes_list          "$ROOT" --list=path_ --show_bytes $P
run_case modes_list_mb       "$ROOT" --list=^recurse $P
run_case modes_disasm        "$ROOT" --disasm=path_one --show_bytes $P

# An empty profile prints its zero total in every text mode.
printf 'heap_v2/524288\n  t*: 0: 0 [0: 0]\n\nMAPPED_LIBRARIES:\n' >"$WORK/empty.heap"
for m in --text --traces --tree --list=main --disasm=main; do
    out=$("$JEPROF_C" --quiet $m "$WORK/empty.heap" 2>/dev/null) || bad "empty $m: exit $?"
    echo "$out" | grep -qx 'Total: 0.0 MB' && echo "ok   empty profile $m" ||
        { bad "empty profile $m"; echo "$out" | head -5; }
done
"$JEPROF_C" --callgrind "$WORK/empty.heap" | grep -qx 'summary: 0' &&
    echo "ok   empty profile --callgrind" || bad "empty profile --callgrind"
"$JEPROF_C" --version | grep -q '^jeprof-c .*jemalloc 5\.3\.0' && echo "ok   --version" ||
    bad "--version"
err=$("$JEPROF_C" --raw --focus=x "$G/prog.heap" 2>&1 >/dev/null)
[ $? = 2 ] && echo "$err" | grep -q '^error: --raw writes the whole profile' &&
    echo "ok   --raw refuses --focus" || bad "--raw accepted --focus"
err=$("$JEPROF_C" --text --list=x "$G/prog.heap" 2>&1 >/dev/null)
[ $? = 2 ] && echo "$err" | grep -q '^error: only one output mode' && echo "ok   two modes refused" ||
    bad "two modes accepted"
# As jeprof: one output mode, one value kind, one granularity (repeating one is fine).
for pair in "--text --tree" "--callgrind --raw" "--inuse_space --alloc_objects" "--lines --addresses"; do
    err=$("$JEPROF_C" $pair "$G/prog.heap" 2>&1 >/dev/null)
    [ $? = 2 ] && echo "$err" | grep -q "^error: options '--.*' and '--.*' cannot be combined" &&
        echo "ok   $pair refused" || bad "$pair accepted"
done
"$JEPROF_C" --quiet --tree --tree --lines --lines "$G/prog.heap" >/dev/null && echo "ok   a repeated flag is fine" ||
    bad "a repeated flag refused"
"$JEPROF_C" --peek='(' "$G/prog.heap" >/dev/null 2>&1
[ $? = 1 ] && echo "ok   bad --peek regex" || bad "bad --peek regex accepted"

# callgrind_annotate reads --callgrind: its totals and per-function self
# costs are jeprof-c's flat values.
if command -v callgrind_annotate >/dev/null 2>&1; then
    ca=$(cd "$WORK" && callgrind_annotate --auto=no modes_callgrind.out 2>&1)
    tot=$(echo "$ca" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
    [ "$tot" = 4798090 ] && echo "ok   callgrind_annotate total" ||
        { bad "callgrind_annotate total '$tot'"; echo "$ca" | head -20; }
    for f in hold:4086039 path_two:313212 helper@12a0:198308 helper@1450:182005; do
        echo "$ca" | awk -v fn="${f%%:*}" -v v="${f#*:}" '{c = $1; gsub(",", "", c); n = split($NF, a, ":"); if (a[n] == fn && c == v) ok = 1} END {exit !ok}' &&
            echo "ok   callgrind_annotate self cost of ${f%%:*}" || bad "callgrind_annotate self cost of ${f%%:*}"
    done
    incl=$(cd "$WORK" && callgrind_annotate --auto=no --inclusive=yes modes_callgrind.out 2>&1 |
        awk '{c=$1; gsub(",","",c); n=split($NF,a,":"); if (a[n]=="recurse") print c}')
    # (each call record is rounded to an integer on its own: +-1)
    [ "$incl" -ge 2494755 ] && [ "$incl" -le 2494757 ] && echo "ok   callgrind_annotate inclusive cost" ||
        bad "callgrind_annotate inclusive recurse '$incl'"
fi

# jeprof-c reads --raw back without the program: the same report, and
# writing it again gives the same file (less the binary= line, no program).
cp "$WORK/modes_raw.out" "$WORK/p.raw"
"$JEPROF_C" --quiet --text --show_bytes "$WORK/p.raw" | cmp -s - "$G/text_bytes.expected" &&
    echo "ok   jeprof-c reads --raw back" || bad "jeprof-c reading --raw"
[ "$(head -1 "$WORK/p.raw")" = "--- symbol" ] &&
    "$JEPROF_C" --quiet --raw "$WORK/p.raw" | cmp -s - <(grep -v '^binary=' "$WORK/p.raw") &&
    echo "ok   --raw of --raw" || bad "--raw of --raw differs"
# --list without the program: the total, and a warning that says why.
err=$("$JEPROF_C" --quiet --list=path_one "$WORK/p.raw" 2>&1 >"$WORK/nl.out")
[ "$(cat "$WORK/nl.out")" = "Total: 4.7 MB" ] && echo "$err" | grep -q "binary was not found" &&
    echo "ok   --list without the binary says so" || { bad "--list without the binary"; echo "$err"; }
# From pprof input the raw file carries unsampled values (legacy text).
(cd "$G" && "$JEPROF_C" --quiet --pprof="$WORK/r.pb.gz" prog prog.heap >/dev/null)
"$JEPROF_C" --quiet --raw "$WORK/r.pb.gz" >"$WORK/r.raw"
sed -n '/^--- heap/{n;p;q}' "$WORK/r.raw" | grep -q '^heap profile: .* @ heapprofile$' &&
    "$JEPROF_C" --quiet --text --show_bytes "$WORK/r.raw" | cmp -s - "$G/pprof_text.expected" &&
    echo "ok   --raw of pprof input" || bad "--raw of pprof input"

# Debian's jeprof reads --raw back without the program: same total and the
# same functions as jeprof-c on the dump.
if command -v jeprof >/dev/null 2>&1; then
    cp "$WORK/modes_raw.out" "$WORK/p.raw"
    jt=$(jeprof --text --show_bytes "$WORK/p.raw" 2>/dev/null)
    ot=$(cd "$G" && "$JEPROF_C" --quiet --text --show_bytes prog prog.heap)
    [ "$(echo "$jt" | head -1)" = "$(echo "$ot" | head -1)" ] && echo "ok   jeprof reads --raw: $(echo "$jt" | head -1)" ||
        { bad "jeprof --raw total"; echo "$jt" | head -3; }
    # jeprof's legacy parser skips a sample without frames ("@" alone): the
    # dump's frameless 82494 B are missing from its total, nothing else.
    jp=$(jeprof --text --show_bytes "$WORK/r.raw" 2>/dev/null | head -1)
    [ "$jp" = "Total: 4798090 B" ] && [ "$(head -1 "$G/pprof_text.expected")" = "Total: 4880584 B" ] && echo "ok   jeprof reads --raw of pprof input: $jp" ||
        bad "jeprof on --raw of pprof input: '$jp'"
    n=0
    for fn in hold path_two helper@12a0 helper@1450 main recurse inlined_mid; do
        echo "$jt" | grep -q "^ *[0-9].* $fn\( (inline)\)\?\$" && n=$((n + 1)) || bad "jeprof --raw lacks $fn"
    done
    [ $n = 7 ] && echo "ok   jeprof --raw names the functions"
fi

# Debian's jeprof on a fresh jemalloc dump of a C program: --list agrees
# line by line on functions whose call sites carry no DWARF discriminator
# (jeprof's line parser drops "(discriminator N)" locations and then names the
# previous line; jeprof-c keeps them), --disasm on the routine totals.
if command -v jeprof >/dev/null 2>&1 && [ -f "$JEMALLOC_SO" ]; then
    build_progs c
    dump=$(jemalloc_dump "$WORK/prog" 12 cmp) || exit $?
    for re in path_two recurse path_one; do
        jeprof --show_bytes --list=$re "$WORK/prog" "$dump" 2>/dev/null >"$WORK/jl.txt"
        "$JEPROF_C" --quiet --show_bytes --list=$re "$WORK/prog" "$dump" >"$WORK/ol.txt"
        [ -s "$WORK/jl.txt" ] && cmp -s "$WORK/jl.txt" "$WORK/ol.txt" &&
            echo "ok   --list=$re as jeprof's" || { bad "--list=$re differs from jeprof"; diff "$WORK/jl.txt" "$WORK/ol.txt" | head; }
    done
    # --tree's node lines carry jeprof's --text flat and cum for every
    # function; --traces' values, summed per leaf function, are jeprof's flat.
    jeprof --text --show_bytes "$WORK/prog" "$dump" 2>/dev/null |
        awk 'NR > 1 {n = $6; for (i = 7; i <= NF; i++) n = n " " $i; print n "\t" $1 "\t" $4}' |
        grep -v -e '@@GLIBCXX' | sort >"$WORK/jt.txt" # (libstdc++'s start-up frame: named differently on purpose)
    "$JEPROF_C" --quiet --tree --show_bytes "$WORK/prog" "$dump" |
        awk -F'|' '{if (split($1, f, " ") != 5) next; n = $2; sub(/^ +/, "", n); print n "\t" f[1] "\t" f[4]}' |
        grep -v -e '^libstdc++' | sort >"$WORK/tt.txt"
    [ -s "$WORK/jt.txt" ] && cmp -s "$WORK/jt.txt" "$WORK/tt.txt" && echo "ok   --tree nodes as jeprof --text ($(wc -l <"$WORK/jt.txt") functions)" ||
        { bad "--tree differs from jeprof --text"; diff "$WORK/jt.txt" "$WORK/tt.txt" | head; }
    "$JEPROF_C" --quiet --traces --show_bytes "$WORK/prog" "$dump" |
        awk '/^-----------\+/ {leaf = 1; next} leaf && /^ *[0-9]/ {v = $1; $1 = ""; sub(/^ +/, ""); a[$0] += v; leaf = 0}
             END {for (k in a) print k "\t" a[k]}' | grep -v -e '^libstdc++' | sort >"$WORK/tr.txt"
    # (each stack's value is printed truncated: a leaf's sum may be short by one per stack)
    awk -F'\t' '$2 != 0' "$WORK/jt.txt" | cut -f1,2 >"$WORK/jf.txt"
    [ "$(cut -f1 "$WORK/jf.txt")" = "$(cut -f1 "$WORK/tr.txt")" ] &&
        join -t $'\t' "$WORK/jf.txt" "$WORK/tr.txt" | awk -F'\t' '{d = $2 - $3; if (d < 0 || d > 4) bad = 1} END {exit bad}' &&
        echo "ok   --traces leaves as jeprof's flat" ||
        { bad "--traces leaves differ from jeprof's flat"; diff <(cut -f1,2 "$WORK/jt.txt") "$WORK/tr.txt" | head; }
    jeprof --show_bytes --disasm=path_two "$WORK/prog" "$dump" 2>/dev/null | head -2 >"$WORK/jd.txt"
    "$JEPROF_C" --quiet --show_bytes --disasm=path_two "$WORK/prog" "$dump" | head -2 >"$WORK/od.txt"
    [ -s "$WORK/jd.txt" ] && cmp -s "$WORK/jd.txt" "$WORK/od.txt" && echo "ok   --disasm totals as jeprof's" ||
        { bad "--disasm differs from jeprof"; diff "$WORK/jd.txt" "$WORK/od.txt"; }
fi

# C++: --list matches the demangled full name too, as jeprof matches nm -C
# output, so one template instance can be picked out.
if command -v g++ >/dev/null 2>&1 && [ -f "$JEMALLOC_SO" ]; then
    build_progs
    xdump=$(jemalloc_dump "$WORK/progxx" 12 xx) || exit $?
    n=$("$JEPROF_C" --quiet --list='Pool<long>::add\(int\)' "$WORK/progxx" "$xdump" | grep -c '^ROUTINE ====================== store::Pool::add in .*prog_cxx.cc$')
    [ "$n" = 1 ] && echo "ok   --list by full C++ name" || bad "--list by full C++ name: $n routines"
fi

# go tool pprof on our pprof export: the same stacks with the same values
# (within the rounding of each sample to an integer) in -traces, and the same
# nodes with the same flat and cum in -tree.
if command -v go >/dev/null 2>&1; then
    (cd "$G" && "$JEPROF_C" --quiet --pprof="$WORK/p.pb.gz" prog prog.heap >/dev/null)
    # "value;leaf;caller;..." per stack, " (inline)" dropped (pprof marks
    # inlining on edges, jeprof-c on names), summed over equal stacks.
    fold_traces() {
        awk '/^-----------\+/ {if (s != "") print v "\t" s; s = ""; next}
             /^ *[0-9.]+B? +/ && s == "" {v = $1; sub("B$", "", v); $1 = ""; sub(/^ +/, ""); s = $0; next}
             s != "" {sub(/^ +/, ""); s = s ";" $0}' | sed 's/ (inline)//g' |
            awk -F'\t' '{a[$2] += $1} END {for (k in a) print k "\t" a[k]}' | sort
    }
    HOME=$WORK timeout 300 go tool pprof -traces -unit=B -sample_index=inuse_space "$WORK/p.pb.gz" 2>/dev/null |
        fold_traces >"$WORK/gt.txt"
    fold_traces <"$WORK/modes_traces.out" >"$WORK/ot.txt"
    if [ -s "$WORK/gt.txt" ] && [ -s "$WORK/ot.txt" ] && join -t $'\t' "$WORK/gt.txt" "$WORK/ot.txt" |
        awk -F'\t' -v n="$(wc -l <"$WORK/ot.txt")" '{d = $2 - $3; if (d < 0) d = -d; if (d <= 4) ok++} END {exit ok != n}'; then
        echo "ok   --traces as go tool pprof -traces"
    else
        bad "--traces differs from go tool pprof"; diff "$WORK/gt.txt" "$WORK/ot.txt" | head
    fi
    node_rows() { # name flat cum, for each node line of a tree
        awk -F'|' '/^ *-?[0-9.]+B? +[0-9. ]+%/ && $2 != "" {n = $2; sub(/^ +/, "", n); if (split($1, f, " ") != 5) next; gsub("B", "", f[1]); gsub("B", "", f[4]); print n "\t" f[1] "\t" f[4]}' |
            sed 's/ (inline)//' | sort
    }
    HOME=$WORK timeout 300 go tool pprof -tree -unit=B -nodefraction=0 -sample_index=inuse_space "$WORK/p.pb.gz" 2>/dev/null |
        node_rows >"$WORK/gn.txt"
    node_rows <"$WORK/modes_tree.out" >"$WORK/on.txt"
    if [ -s "$WORK/on.txt" ] && join -t $'\t' "$WORK/gn.txt" "$WORK/on.txt" |
        awk -F'\t' -v n="$(wc -l <"$WORK/on.txt")" '{a = $2 - $4; b = $3 - $5; if (a < 0) a = -a; if (b < 0) b = -b; if (a <= 4 && b <= 4) ok++} END {exit ok != n}'; then
        echo "ok   --tree nodes as go tool pprof -tree"
    else
        bad "--tree differs from go tool pprof"; diff "$WORK/gn.txt" "$WORK/on.txt" | head
    fi
fi
exit $status
