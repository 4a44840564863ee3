# Sourced by the --growth and differential flame graph tests (after
# lib_jeprof.sh): builds tests/cli/growth/leaky.c and runs it under our
# liballoc (every byte sampled, heap_v2 and pprof, one manual dump per
# step). Sets LEAKY, DUMPS (the directory) and NSTEPS.
LIBALLOC=${LIBALLOC:-$ROOT/build/liballoc.so}
[ -f "$LIBALLOC" ] || fail "no $LIBALLOC (run make)"
need gcc
NSTEPS=12
LEAKY=$WORK/leaky
DUMPS=$WORK/dumps
gcc -O2 -g -o "$LEAKY" "$ROOT/tests/cli/growth/leaky.c" -ldl || fail "cannot build leaky"
mkdir -p "$DUMPS"
LD_PRELOAD=$LIBALLOC MALLOC_CONF=prof:true,lg_prof_sample:0,prof_format:both,prof_prefix:$DUMPS/lk \
    "$LEAKY" $NSTEPS 100 || fail "leaky failed under $LIBALLOC"
# in_seq SUFFIX: the dumps ending in SUFFIX in sequence order (the seq
# field of lk.PID.SEQ.mN).
in_seq() { (cd "$DUMPS" && ls lk.*"$1" | sort -t. -k3,3n | sed "s|^|$DUMPS/|"); }
