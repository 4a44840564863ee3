#!/usr/bin/env bash
# jeprof-c against Debian's jeprof, live, on dumps from Debian's jemalloc of
# test programs built here (-O2, no frame pointers): the same Total and the
# same per-function flat and cum values in several modes, and --collapsed
# sums equal. Rows where jeprof guesses a name from the nearest exported
# symbol (libstdc++'s init frames) may be named module+0xoffset by us; see
# jeprof/compare.py for the exact rule.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
need jeprof python3
build_progs
cd "$WORK"
d12=$(jemalloc_dump ./prog 12 p12) || exit $?
# Several dumps of one process (jeprof symbolizes all inputs with one
# address map, so only same-process dumps can be summed or subtracted).
d12b=$(EXTRA_CONF=lg_prof_interval:22 jemalloc_dump ./prog 12 p12b 3) || exit $?
i12b=$(ls "$WORK"/p12b.*.i0.heap 2>/dev/null | head -n 1)
[ -n "$i12b" ] || fail "no interval dump"
d0=$(jemalloc_dump ./prog 0 p0) || exit $?
dxx=$(jemalloc_dump ./progxx 10 pxx) || exit $?
dacc=$(EXTRA_CONF=prof_accum:true jemalloc_dump ./prog 12 pacc) || exit $?

status=0
# jeprof spends its time starting nm/addr2line processes: run all its
# reports at once in the background, then compare one by one.
labels=() flagsl=() n=0
theirs() { # label compare-flags args...
    labels[n]=$1; flagsl[n]=$2; shift 2
    printf '%s\n' "$@" >"args.$n"
    jeprof "$@" >"theirs.$n" 2>/dev/null &
    n=$((n + 1))
}
theirs "text show_bytes lg12" "" --text --show_bytes ./prog "$d12"
theirs "text inuse_objects lg12" "" --text --inuse_objects ./prog "$d12"
theirs "text show_bytes lg0" "" --text --show_bytes ./prog "$d0"
theirs "text MB cum" "" --text --cum ./prog "$d12"
theirs "two profiles summed" "" --text --show_bytes ./prog "$i12b" "$d12b"
theirs "base subtracted" "" --text --show_bytes --base="$i12b" ./prog "$d12b"
theirs "focus ignore" "" --text --show_bytes --focus=main --ignore=path_two ./prog "$d12"
theirs "alloc_space prof_accum" "" --text --show_bytes --alloc_space ./prog "$dacc"
theirs "alloc_objects prof_accum" "" --text --alloc_objects ./prog "$dacc"
theirs "c++ lg10 (lenient)" --lenient --text --show_bytes ./progxx "$dxx"
jeprof --collapsed ./prog "$d12" >col.theirs.1 2>/dev/null &
jeprof --collapsed ./progxx "$dxx" >col.theirs.2 2>/dev/null &
wait
for ((i = 0; i < n; i++)); do
    mapfile -t args <"args.$i"
    printf '%-34s ' "${labels[i]}"
    # jeprof shows the C++ allocator plumbing; jeprof-c drops it by default.
    keep=()
    [[ ${labels[i]} == c++* ]] && keep=(--keep_plumbing)
    "$JEPROF_C" --quiet "${keep[@]}" "${args[@]}" >"mine.$i" 2>mine.err || { echo "jeprof-c failed"; cat mine.err; status=1; continue; }
    [ -s "theirs.$i" ] || { echo "jeprof failed"; status=1; continue; }
    python3 "$TESTDIR/compare.py" ${flagsl[i]} "mine.$i" "theirs.$i" || { status=1; diff "mine.$i" "theirs.$i" | head -20; }
done
# The C++ names went through demangling and short-name rules. A clone in an
# anonymous namespace is named as addr2line names it, simplified as pprof
# simplifies it, where jeprof strips "(anonymous namespace)" as if it were
# a parameter list and keeps the clone suffix (a deliberate difference).
last=$((n - 1))
for f in "store::Pool::add" "std::__cxx11::basic_string::_M_construct"; do
    grep -q " $f\$" "mine.$last" || { echo "C++: '$f' missing"; status=1; }
done
a=$(grep -o ' [^ ]*fill_all.*$' "mine.$last" | sort)
b=$(grep -o ' [^ ]*fill_all.*$' "theirs.$last" | sort)
printf '%-34s %s (jeprof:%s)\n' "c++ clone name" "${a# }" "$b"
[ "$a" = " namespace)::fill_all" ] && [ "$b" = " ::fill_all [clone .constprop.0]" ] &&
    grep -q ' (anonymous namespace)::fill_all$' "mine.$last" ||
    { echo "C++ clone: '$a' vs jeprof '$b'"; status=1; }
k=1
for pd in "./prog $d12" "./progxx $dxx"; do
    a=$("$JEPROF_C" --quiet --collapsed $pd | awk '{s += $NF} END {printf "%d", s}')
    b=$(awk '{s += $NF} END {printf "%d", s}' col.theirs.$k)
    printf '%-34s %s vs jeprof %s\n' "collapsed sum $(basename "${pd#* }")" "$a" "$b"
    [ "$a" = "$b" ] || status=1
    k=$((k + 1))
done

# A relative, renamed copy of the program still symbolizes by basename/build id.
mkdir -p moved && cp prog moved/renamed
"$JEPROF_C" --quiet --text --show_bytes moved/renamed "$d12" >renamed.txt
"$JEPROF_C" --quiet --text --show_bytes ./prog "$d12" >direct.txt
cmp -s renamed.txt direct.txt || { echo "renamed program symbolizes differently"; diff renamed.txt direct.txt | head; status=1; }
exit $status
