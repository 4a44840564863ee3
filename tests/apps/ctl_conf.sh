#!/usr/bin/env bash
# MALLOC_CONF as jemalloc 5.3 reads it (expectations checked against
# Debian's libjemalloc2), with a small probe linked with -lalloc that prints
# the opt.* values it is asked for:
#   - each malformed form prints jemalloc's message on stderr, exactly, and
#     the program runs on (exit 0): unknown key, bad value (number, bool,
#     choice), out-of-range value, trailing comma, trailing key, malformed
#     string; the last three twice (jemalloc parses the string twice);
#     the pairs before the error still apply, bad values leave the default;
#   - abort_conf:true with an error (before or after it in the string)
#     prints the abort line and dies of SIGABRT (status 134); errors on
#     experimental_* keys are tolerated;
#   - opt.* reflect MALLOC_CONF for every option type: bool, unsigned,
#     size_t (values above the maximum are clipped: lg_prof_sample:99 -> 63;
#     0x.. and 0.. prefixes), ssize_t, string, choice; later pairs win;
#     the default opt.narenas is the automatic arena count (one per CPU);
#   - the malloc_conf global of the program is read (opt.narenas == 3) and
#     MALLOC_CONF overrides it;
#   - confirm_conf:true echoes each source as
#     `<jemalloc>: malloc_conf #N (<what>): "<string>"` (N = 1..5 in
#     jemalloc's order, all five printed) and each accepted pair as
#     `<jemalloc>: -- Set conf value: k:v`.
. "$(dirname "$0")/lib.sh"

PROBE=$(app_bin apps/ctl_conf_probe) || exit 1
PROBE_GLOBAL=$(app_bin apps/ctl_conf_probe_global) || exit 1

# run CONF PROG ARGS...: run with MALLOC_CONF=CONF (unset if CONF is "-");
# stdout in $TMP/out, stderr in $TMP/err, status in $rc.
run() {
    local conf=$1
    shift
    # The subshell keeps bash's "Aborted" job report out of the log.
    if [ "$conf" = - ]; then
        (env -u MALLOC_CONF timeout 120 "$@" >"$TMP/out" 2>"$TMP/err"; exit $?) 2>/dev/null
    else
        (env MALLOC_CONF="$conf" timeout 120 "$@" >"$TMP/out" 2>"$TMP/err"; exit $?) 2>/dev/null
    fi
    rc=$?
}

# expect_err CONF EXPECTED-STDERR [NAME:TYPE=VALUE...]: exit 0, stderr exactly
# as given, and the listed values.
expect_err() {
    local conf=$1 want=$2
    shift 2
    local args=() checks=()
    for a in "$@"; do
        args+=("${a%%=*}")
        checks+=("$a")
    done
    run "$conf" "$PROBE" "${args[@]}"
    [ $rc -eq 0 ] || fail "MALLOC_CONF=$conf: exit status $rc, want 0 (the program runs on); stderr: $(head -3 "$TMP/err")"
    if [ "$(cat "$TMP/err")" != "$want" ]; then
        echo "FAIL: MALLOC_CONF=$conf: stderr differs from jemalloc's"
        echo "--- want"
        printf '%s\n' "$want"
        echo "--- got"
        cat "$TMP/err"
        exit 1
    fi
    for c in "${checks[@]}"; do
        local nt=${c%%=*} val=${c#*=}
        local line="${nt%:*}=$val"
        grep -qxF "$line" "$TMP/out" || fail "MALLOC_CONF=$conf: want $line, got $(grep "^${nt%:*}=" "$TMP/out")"
    done
}

# ---- messages ----
expect_err 'foo:1' '<jemalloc>: Invalid conf pair: foo:1'
expect_err 'narenas:abc' '<jemalloc>: Invalid conf value: narenas:abc'
expect_err 'narenas:0x' '<jemalloc>: Invalid conf value: narenas:0x'
expect_err 'tcache:yes' '<jemalloc>: Invalid conf value: tcache:yes' 'opt.tcache:b=true'
expect_err 'thp:bogus' '<jemalloc>: Invalid conf value: thp:bogus' 'opt.thp:s=default'
expect_err 'dirty_decay_ms:-5' '<jemalloc>: Out-of-range conf value: dirty_decay_ms:-5' 'opt.dirty_decay_ms:zd=10000'
expect_err 'narenas:0' '<jemalloc>: Out-of-range conf value: narenas:0'
expect_err 'narenas:2,' "<jemalloc>: Conf string ends with comma
<jemalloc>: Conf string ends with comma" 'opt.narenas:u=2'
expect_err 'narenas' "<jemalloc>: Conf string ends with key
<jemalloc>: Conf string ends with key"
expect_err 'narenas:2,!x:1' "<jemalloc>: Malformed conf string
<jemalloc>: Malformed conf string" 'opt.narenas:u=2'
expect_err 'narenas:2,,narenas:3' "<jemalloc>: Malformed conf string
<jemalloc>: Malformed conf string" 'opt.narenas:u=2'
# Several errors in one string, each reported once, good pairs applied.
expect_err 'foo:1,narenas:5,tcache:maybe,bar:2' "<jemalloc>: Invalid conf pair: foo:1
<jemalloc>: Invalid conf value: tcache:maybe
<jemalloc>: Invalid conf pair: bar:2" 'opt.narenas:u=5' 'opt.tcache:b=true'

# ---- abort_conf ----
abort_line='<jemalloc>: Abort (abort_conf:true) on invalid conf value (see above).'
for conf in 'abort_conf:true,foo:1' 'foo:1,abort_conf:true'; do
    run "$conf" "$PROBE" opt.narenas:u
    [ $rc -eq 134 ] || fail "MALLOC_CONF=$conf: exit status $rc, want 134 (SIGABRT)"
    [ ! -s "$TMP/out" ] || fail "MALLOC_CONF=$conf: main() ran before the abort: $(head -2 "$TMP/out")"
    want="<jemalloc>: Invalid conf pair: foo:1
$abort_line"
    [ "$(cat "$TMP/err")" = "$want" ] || fail "MALLOC_CONF=$conf: stderr is \"$(cat "$TMP/err")\", want \"$want\""
done
run 'abort_conf:true,narenas:abc' "$PROBE" opt.narenas:u
[ $rc -eq 134 ] || fail "abort_conf:true,narenas:abc: exit status $rc, want 134"
grep -qxF "$abort_line" "$TMP/err" || fail "abort_conf:true,narenas:abc: no abort line"
# experimental_* errors are reported but do not abort.
expect_err 'experimental_foo:1,abort_conf:true' '<jemalloc>: Invalid conf pair: experimental_foo:1' 'opt.abort_conf:b=true'
# abort_conf with a clean string: no message, runs.
expect_err 'abort_conf:true,narenas:2' '' 'opt.abort_conf:b=true' 'opt.narenas:u=2'

# ---- opt.* per type ----
expect_err 'tcache:false,prof_accum:true,retain:false' '' 'opt.tcache:b=false' 'opt.prof_accum:b=true' 'opt.retain:b=false'
# (arenas.narenas is not compared: jemalloc adds a dedicated huge arena.)
expect_err 'narenas:6' '' 'opt.narenas:u=6'
expect_err 'tcache_max:1024,lg_prof_sample:99' '' 'opt.tcache_max:z=1024' 'opt.lg_prof_sample:z=63'
expect_err 'lg_prof_sample:0x10' '' 'opt.lg_prof_sample:z=16'
expect_err 'lg_prof_sample:010' '' 'opt.lg_prof_sample:z=8'
expect_err 'dirty_decay_ms:-1,muzzy_decay_ms:12345,lg_prof_interval:20' '' 'opt.dirty_decay_ms:zd=-1' \
    'opt.muzzy_decay_ms:zd=12345' 'opt.lg_prof_interval:zd=20' 'arenas.dirty_decay_ms:zd=-1'
expect_err 'prof_prefix:/tmp/some prefix,stats_print_opts:Jgm' '' 'opt.prof_prefix:s=/tmp/some prefix' \
    'opt.stats_print_opts:s=Jgm'
expect_err 'thp:never,percpu_arena:percpu,junk:alloc' '' 'opt.thp:s=never' 'opt.percpu_arena:s=percpu' 'opt.junk:s=alloc'
expect_err 'narenas:2,narenas:4' '' 'opt.narenas:u=4'
# Defaults, with MALLOC_CONF unset.
run - "$PROBE" opt.dirty_decay_ms:zd opt.muzzy_decay_ms:zd opt.tcache:b opt.lg_prof_sample:z opt.thp:s opt.prof_prefix:s
[ $rc -eq 0 ] && [ ! -s "$TMP/err" ] || fail "probe without MALLOC_CONF: status $rc, stderr $(head -2 "$TMP/err")"
[ "$(tr '\n' ' ' <"$TMP/out")" = "opt.dirty_decay_ms=10000 opt.muzzy_decay_ms=0 opt.tcache=true opt.lg_prof_sample=19 opt.thp=default opt.prof_prefix=jeprof " ] ||
    fail "defaults differ from jemalloc's: $(tr '\n' ' ' <"$TMP/out")"

# ---- the malloc_conf global ----
run - "$PROBE_GLOBAL" opt.narenas:u
[ $rc -eq 0 ] && [ ! -s "$TMP/err" ] || fail "malloc_conf=\"narenas:3\": status $rc, stderr $(head -2 "$TMP/err")"
grep -qx 'opt.narenas=3' "$TMP/out" || fail "malloc_conf=\"narenas:3\" not read: $(cat "$TMP/out")"
run narenas:5 "$PROBE_GLOBAL" opt.narenas:u
grep -qx 'opt.narenas=5' "$TMP/out" || fail "MALLOC_CONF=narenas:5 does not override malloc_conf=\"narenas:3\": $(cat "$TMP/out")"
run tcache:false "$PROBE_GLOBAL" opt.narenas:u opt.tcache:b
grep -qx 'opt.narenas=3' "$TMP/out" && grep -qx 'opt.tcache=false' "$TMP/out" ||
    fail "malloc_conf=\"narenas:3\" with MALLOC_CONF=tcache:false: $(tr '\n' ' ' <"$TMP/out")"

# ---- confirm_conf ----
run 'confirm_conf:true,narenas:2' "$PROBE" opt.narenas:u opt.confirm_conf:b
[ $rc -eq 0 ] || fail "confirm_conf:true: status $rc"
grep -qxF '<jemalloc>: -- Set conf value: confirm_conf:true' "$TMP/err" &&
    grep -qxF '<jemalloc>: -- Set conf value: narenas:2' "$TMP/err" ||
    fail "confirm_conf:true: no \"-- Set conf value:\" lines: $(cat "$TMP/err")"
grep -qx 'opt.confirm_conf=true' "$TMP/out" || fail "opt.confirm_conf does not read true"
# The default opt.narenas is the number of automatic arenas, one per CPU
# (jemalloc: 4 x CPUs; liballoc/malloc.c says why).
ncpu=$(nproc)
want_n=$ncpu
run - "$PROBE" opt.narenas:u
grep -qx "opt.narenas=$want_n" "$TMP/out" ||
    fail "default opt.narenas: $(cat "$TMP/out"), want $want_n (the automatic arena count, one per CPU: $ncpu)"
# Source lines: jemalloc numbers the five sources 1..5 and prints each one.
run 'confirm_conf:true,narenas:2' "$PROBE"
want='<jemalloc>: malloc_conf #4 (value of the environment variable MALLOC_CONF): "confirm_conf:true,narenas:2"'
grep -qxF "$want" "$TMP/err" || fail "confirm_conf:true: no line '$want'; got: $(grep 'malloc_conf #' "$TMP/err")"
n=$(grep -c '^<jemalloc>: malloc_conf #[1-5] (' "$TMP/err")
[ "$n" = 5 ] || fail "confirm_conf:true printed $n source lines, want 5 (jemalloc prints every source): $(grep 'malloc_conf #' "$TMP/err")"
run 'confirm_conf:true' "$PROBE_GLOBAL"
want='<jemalloc>: malloc_conf #2 (string pointed to by the global variable malloc_conf): "narenas:3"'
grep -qxF "$want" "$TMP/err" || fail "confirm_conf:true with the malloc_conf global: no line '$want'; got: $(grep 'malloc_conf #' "$TMP/err")"
grep -qxF '<jemalloc>: -- Set conf value: narenas:3' "$TMP/err" || fail "confirm_conf:true: narenas:3 from malloc_conf not echoed"
echo "ctl_conf: messages, abort_conf, option types, malloc_conf global and confirm_conf as jemalloc"
