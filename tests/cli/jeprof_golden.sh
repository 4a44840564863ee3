#!/usr/bin/env bash
# jeprof-c output formats, pinned by checked-in expected files (golden/).
# Inputs need no machine-specific files: golden/prog is a checked-in test
# binary (prog_a.c + prog_b.c, gcc -O2 -g, no frame pointers) and prog.heap
# its jemalloc dump with only the binary's frames and mapping kept (the
# mapping names another directory: the program is matched by basename).
# UPDATE_GOLDEN=1 rewrites the expected files.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
G=$ROOT/tests/cli/golden
status=0
run_case() { # name args...
    local name=$1; shift
    (cd "$G" && "$JEPROF_C" --quiet "$@") >"$WORK/$name.out" 2>"$WORK/$name.err" ||
        { echo "FAIL $name: exit $?"; cat "$WORK/$name.err"; status=1; return; }
    if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then cp "$WORK/$name.out" "$G/$name.expected"; fi
    if cmp -s "$WORK/$name.out" "$G/$name.expected"; then
        echo "ok   $name"
    else
        echo "FAIL $name"; diff "$G/$name.expected" "$WORK/$name.out" | head -20; status=1
    fi
}
run_case text          --text prog prog.heap
run_case text_bytes    --text --show_bytes prog prog.heap
run_case text_objects  --text --inuse_objects prog prog.heap
run_case text_cum      --text --show_bytes --cum --nodecount=4 prog prog.heap
run_case text_thread1  --text --show_bytes --thread=1 prog prog.heap
run_case text_lines    --text --show_bytes --lines prog prog.heap
run_case text_focus    --text --show_bytes --focus=path_ --ignore=inlined prog prog.heap
run_case collapsed     --collapsed prog prog.heap
run_case json          --json --nodecount=5 prog prog.heap
run_case recent        --text recent.json
run_case recent_alloc  --alloc_space recent.json
# The same profile with no program: unresolved frames keep their module.
run_case unsymbolized  --text --show_bytes prog.heap

# --pprof round trip: reading our own pprof back gives the same report, up
# to the rounding of each sample to an integer (pinned in pprof_text).
(cd "$G" && "$JEPROF_C" --quiet --pprof="$WORK/p.pb.gz" prog prog.heap >/dev/null) || { echo "FAIL pprof write"; status=1; }
run_case pprof_text    --text --show_bytes "$WORK/p.pb.gz"
diff <(sed 1d "$G/pprof_text.expected" | awk '{print $NF}') <(sed 1d "$G/text_bytes.expected" | awk '{print $NF}') >/dev/null &&
    echo "ok   pprof keeps the same functions" || { echo "FAIL pprof functions differ"; status=1; }
# ... also uncompressed, and pprof's own reader accepts it when Go is here.
gzip -dc "$WORK/p.pb.gz" >"$WORK/p.pb"
bid=$(readelf -n "$G/prog" 2>/dev/null | awk '/Build ID/ {print $3}')
if [ -n "$bid" ]; then
    grep -aq "$bid" "$WORK/p.pb" && echo "ok   pprof mapping carries the build id" ||
        { echo "FAIL pprof mapping lacks the build id"; status=1; }
fi
"$JEPROF_C" --quiet --text --show_bytes "$WORK/p.pb" | cmp -s - "$G/pprof_text.expected" &&
    echo "ok   raw pprof" || { echo "FAIL raw pprof"; status=1; }
if command -v go >/dev/null 2>&1; then
    top=$(HOME=$WORK timeout 300 go tool pprof -top -sample_index=inuse_space "$WORK/p.pb.gz" 2>&1)
    if echo "$top" | grep -q "helper@12a0"; then echo "ok   go tool pprof reads it"; else
        echo "FAIL go tool pprof"; echo "$top" | head; status=1; fi
fi
exit $status
