# Shared by tests/apps/dump_signal_*.sh and tests/cli/jeprof_record_signal.sh
# (run.sh skips lib*): the subjects of tests/dumpsig/, starting one in the
# background and reading a site's bytes from a dump.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
JEPROF_C=$ROOT/build/jeprof-c
[ -x "$JEPROF_C" ] || fail "$JEPROF_C not built (run make)"
IDLE=$(app_bin dumpsig/idle) || exit 1
# Truth of tests/dumpsig/idle.c's sites, in bytes.
KNOWN_BYTES=$((4096 * 8192))
CHILD_BYTES=$((2048 * 8192))

# How long `jeprof-c dump` may wait for an answer that must come. It returns
# as soon as the dump is there (well under a second unloaded), so this only
# bounds a loaded machine (CI) and a real failure; a check that something
# is immediate (an error before any wait) compares with half of it.
DUMP_WAIT=30

BG_PIDS=""
# At exit: kill what we started, and the process groups of their children
# (record runs its command in a group of its own).
cleanup_hooks='for p in $BG_PIDS; do
    for c in $(cat /proc/$p/task/$p/children 2>/dev/null); do kill -KILL -- -$c $c 2>/dev/null; done
    kill -KILL $p 2>/dev/null
done'

# Start a command in the background, its stdout in $2; sets BG.
start_bg() { # out cmd...
    local out=$1; shift
    "$@" >"$out" 2>"$out.err" &
    BG=$!
    disown $BG
    BG_PIDS="$BG_PIDS $BG"
}

# Wait until file $1 has a line matching $2 (60 s at most: a loaded machine
# may take seconds to start a profiled process; polled every 50 ms).
wait_line() { # file regex
    for _ in $(seq 1200); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    fail "no line '$2' in $1 after 60 s: $(cat "$1" "$1.err" 2>/dev/null | head -5)"
}

# Wait until process $1 catches signal number $2 (its allocator set up the
# dump signal; sending it earlier would kill it), 60 s at most.
wait_catch() { # pid signo [program]: with program, also until pid runs it
    local mask
    for _ in $(seq 1200); do
        mask=$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null)
        [ -n "$mask" ] || fail "process $1 is gone before it caught signal $2"
        # A launcher (env, setsid) that the preload also reached catches the
        # signal too, but its exec resets the handler: wait for the program.
        if [ -z "${3:-}" ] || [ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$(readlink -f "$3")" ]; then
            (((16#$mask >> ($2 - 1)) & 1)) && return 0
        fi
        sleep 0.05
    done
    fail "process $1 does not catch signal $2 after 60 s"
}

# Flat bytes of function $3 in dump $2 of program $1 (jeprof-c --text --show_bytes).
site_bytes() { # program dump function
    "$JEPROF_C" --text --show_bytes --quiet "$1" "$2" 2>/dev/null |
        awk -v f="$3" '$NF == f { print $1; found = 1 } END { if (!found) print 0 }'
}

# Fail unless $2 is within 15% of $3 (what: $1).
within15() { # what got want
    awk -v g="$2" -v w="$3" 'BEGIN { exit !(g >= 0.85 * w && g <= 1.15 * w) }' ||
        fail "$1: $2 bytes, want $3 within 15%"
}
