#!/usr/bin/env bash
# Runs every test and prints one closing line "N passed, M failed, K skipped".
#
# Test kinds (see CONVENTIONS.md §14):
#   build/tests/unit/<name>          white-box binaries (link the objects)
#   build/tests/integration/<name>   public API only (linked with -lalloc)
#   build/tests/stress/<name>        threads, fork, bounded in time
#   tests/cli/<name>.sh, tests/apps/<name>.sh   scripts (exit 0 pass, 77 skip)
# Integration and stress binaries run in a matrix: MALLOC_CONF unset and set,
# TEST_THREADS=2 and 8 (stress) so both configurations are always covered.
# A file <name>.conf beside a test's source pins its MALLOC_CONF.
# Options: --only NAME (substring match), --long (sets TEST_LONG=1).
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
ONLY=""
export TEST_LONG=0
while [ $# -gt 0 ]; do
    case "$1" in
        --only) ONLY=$2; shift 2 ;;
        --long) TEST_LONG=1; shift ;;
        *) echo "usage: tests/run.sh [--only NAME] [--long]" >&2; exit 2 ;;
    esac
done
export ROOT BUILD="$ROOT/build"
LOGDIR=$ROOT/build/test-logs
mkdir -p "$LOGDIR"
pass=0; fail=0; skip=0; failed_names=""
CONF_SET="narenas:3,dirty_decay_ms:0,muzzy_decay_ms:0,tcache_max:4096"
# The soak runs 30 minutes under --long.
if [ "$TEST_LONG" = 1 ]; then TIMEOUT=${TEST_TIMEOUT:-2400}; else TIMEOUT=${TEST_TIMEOUT:-600}; fi

run_one() { # label logname cmd...
    local label=$1 log=$LOGDIR/$2.log; shift 2
    local t0=$(date +%s.%N)
    timeout -k 10 "$TIMEOUT" "$@" >"$log" 2>&1
    local rc=$?
    local dt=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
    if [ $rc -eq 0 ]; then
        pass=$((pass+1)); echo "PASS  $label (${dt}s)"
    elif [ $rc -eq 77 ]; then
        skip=$((skip+1)); echo "SKIP  $label: $(tail -n 1 "$log")"
    else
        fail=$((fail+1)); failed_names="$failed_names $label"
        echo "FAIL  $label (exit $rc, ${dt}s); last lines of $log:"
        tail -n 15 "$log" | sed 's/^/      /'
    fi
}

want() { [ -z "$ONLY" ] || [[ "$1" == *"$ONLY"* ]]; }

conf_for() { # kind name default
    local f=$ROOT/tests/$1/$2.conf
    if [ -f "$f" ]; then cat "$f"; else echo "$3"; fi
}

for kind in unit integration stress; do
    [ -d build/tests/$kind ] || continue
    for bin in build/tests/$kind/*; do
        [ -x "$bin" ] && [ -f "$bin" ] || continue
        name=$(basename "$bin")
        # A binary left by a test since removed from the tree is not run.
        [ -f "tests/$kind/$name.c" ] || [ -f "tests/$kind/$name.cc" ] || continue
        want "$name" || continue
        if [ $kind = unit ]; then
            run_one "unit/$name" "unit-$name" env -u MALLOC_CONF "$bin"
            continue
        fi
        if [ $kind = integration ]; then matrix="unset:2 set:8"; else matrix="unset:2 unset:8 set:2 set:8"; fi
        for m in $matrix; do
            c=${m%%:*}; th=${m##*:}
            if [ $c = unset ]; then conf=$(conf_for $kind "$name" ""); else conf=$(conf_for $kind "$name" "$CONF_SET"); fi
            if [ -z "$conf" ]; then
                run_one "$kind/$name [conf unset, $th threads]" "$kind-$name-$c-$th" \
                    env -u MALLOC_CONF TEST_THREADS=$th "$bin"
            else
                run_one "$kind/$name [MALLOC_CONF=$conf, $th threads]" "$kind-$name-$c-$th" \
                    env MALLOC_CONF="$conf" TEST_THREADS=$th "$bin"
            fi
        done
    done
done

for kind in cli apps; do
    for script in tests/$kind/*.sh; do
        [ -f "$script" ] || continue
        name=$(basename "$script" .sh)
        case "$name" in lib*|_*) continue ;; esac
        want "$name" || continue
        run_one "$kind/$name" "$kind-$name" bash "$script"
    done
done

echo
[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
