# Shared by tests/apps/prof_*.sh (sourced after tests/apps/lib.sh): builds
# helper programs from tests/prof/ into build/tests/prof/ and checks
# profiles against the truth a workload prints.
PROF_SRC=$ROOT/tests/prof
PROF_OUT=$ROOT/build/tests/prof
JEPROF_C=$ROOT/build/jeprof-c
mkdir -p "$PROF_OUT" || fail "mkdir $PROF_OUT"
# PROF_TEST_LIB=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 runs a test
# against the reference allocator instead (to check the test itself).
if [ -n "${PROF_TEST_LIB:-}" ]; then
    LIB=$PROF_TEST_LIB
    echo "note: testing $LIB"
fi

# The workloads (profiling subjects) are built by tests/tests.mk into
# build/tests/prof/, each with the flags its test is about (frame pointers
# omitted or kept, DWARF version) and without builtin malloc folding.
# prof_need NAME: fail clearly if one is missing.
prof_need() { # name
    [ -x "$PROF_OUT/$1" ] || fail "$PROF_OUT/$1 is not built (run make test)"
}

# Print the one file matching a glob, or fail listing what is there.
one_file() { # what glob
    local what=$1 g
    shift
    local files=()
    for g in "$@"; do [ -e "$g" ] && files+=("$g"); done
    [ ${#files[@]} -eq 1 ] || {
        echo "FAIL: $what: expected exactly one file matching $*, found ${#files[@]}:"
        ls -la "$(dirname "$1")"
        exit 1
    } >&2
    echo "${files[0]}"
}

# Compare per-function values with a workload's truth ("site NAME BYTES").
# values file: lines "NAME BYTES" (the profile's flat per function) plus one
# line "Total BYTES". Sites whose truth >= min are checked within tol
# (relative); with zero_frac > 0, sites whose truth is 0 must stay under
# zero_frac of the total truth, and the profile's Total must be within
# 5% of the total truth. Prints a table; returns 1 on any mismatch.
check_truth() { # label truth values tol min zero_frac
    awk -v label="$1" -v tol="$4" -v min="$5" -v zfrac="$6" '
        FNR == NR { if ($1 == "site") { truth[$2] = $3; order[++n] = $2 } else if ($1 == "total") total = $2; next }
        $1 == "Total" { ptotal = $2; next }
        { v = $NF; $NF = ""; sub(/ +$/, ""); got[$0] += v }
        END {
            bad = 0
            printf "%s\n  %-22s %12s %12s %8s\n", label, "site", "truth", "profile", "error"
            for (i = 1; i <= n; i++) {
                s = order[i]; t = truth[s]; g = got[s] + 0
                if (t > 0) {
                    if (t < min) continue
                    e = (g - t) / t
                    ok = (e <= tol && e >= -tol)
                    printf "  %-22s %12d %12d %+7.1f%% %s\n", s, t, g, 100 * e, ok ? "ok" : "FAIL (limit " 100 * tol "%)"
                } else {
                    if (zfrac <= 0) continue
                    e = g / total
                    ok = e < zfrac
                    printf "  %-22s %12d %12d %7.2f%% of total %s\n", s, t, g, 100 * e, ok ? "ok" : "FAIL (limit " 100 * zfrac "%)"
                }
                if (!ok) bad = 1
            }
            if (zfrac > 0) {
                e = (ptotal - total) / total
                ok = (e <= 0.05 && e >= -0.05)
                printf "  %-22s %12d %12d %+7.1f%% %s\n", "Total", total, ptotal, 100 * e, ok ? "ok" : "FAIL (limit 5%)"
                if (!ok) bad = 1
            }
            exit bad
        }' "$2" "$3"
}

# jeprof --text output -> "NAME FLAT" lines plus "Total N".
text_values() { # jeprof-text-file
    awk '$1 == "Total:" { print "Total", $2; next }
         NF >= 6 && $1 ~ /^-?[0-9]+$/ && $2 ~ /%$/ {
             name = $6; for (i = 7; i <= NF; i++) name = name " " $i
             print name, $1 }' "$1"
}

# Node with npm pprof-format installed in build/npm. Returns 1 (after
# saying why) when node is missing or npm cannot reach the registry; the
# caller then skips those checks and ends with 77 if nothing else failed.
have_pprof_format() {
    local npmdir=$ROOT/build/npm
    command -v node >/dev/null 2>&1 || { echo "note: node not installed"; return 1; }
    if [ ! -f "$npmdir/node_modules/pprof-format/package.json" ]; then
        command -v npm >/dev/null 2>&1 || { echo "note: npm not installed"; return 1; }
        mkdir -p "$npmdir"
        if ! (cd "$npmdir" && timeout 120 npm install --no-audit --no-fund --prefix "$npmdir" pprof-format@2) \
            >"$TMP/npm.log" 2>&1; then
            tail -5 "$TMP/npm.log"
            echo "note: npm install pprof-format@2 failed (registry unreachable?)"
            return 1
        fi
    fi
    export PPROF_FORMAT_DIR=$npmdir/node_modules
}
