# heapv2_check: grammar check of one heap_v2 dump (jemalloc 5.3 layout).
#   awk [-v exact=1] [-v accum=1] -f heapv2_check.awk FILE
# Layout: "heap_v2/<period>", "  t*: c: b [ac: ab]", one "  t<uid>: ..."
# line per live thread (optionally " <name>"), then blocks "@ 0x.. 0x.."
# followed by a "  t*:" line and "  t<uid>:" lines, then an empty line,
# "MAPPED_LIBRARIES:" and /proc/<pid>/maps lines up to the end, then our
# "# build_id 0x<address> <hex>" lines (none in a forked child's dumps)
# and one "# time_ns <ns since the epoch>" line (at most one, last; a peak
# dump's "# peak_time_ns <ns>" line, when the snapshot was taken, before it).
# Without accum every [ac: ab] pair must be [0: 0] and no block may have
# zero live objects. With exact (lg_prof_sample:0, weights of 1) the totals
# must add up: header t* = sum of blocks' t*, each block's t* = sum of its
# t<uid> lines, each header t<uid> = sum of that uid's block lines.
# Prints "ok FILE: ..." or up to 10 errors; exits 1 on any error.
function err(m) {
    if (nerr++ < 10)
        printf "%s:%d: %s: [%s]\n", FILENAME, FNR, m, substr($0, 1, 120)
}
# Parses "c: b [ac: ab]" at the end of a counts line into cnt[1..4];
# returns the text after it (thread name) or "BAD".
function counts(s,   m) {
    if (!match(s, /^[0-9]+: [0-9]+ \[[0-9]+: [0-9]+\]/))
        return "BAD"
    m = substr(s, 1, RLENGTH)
    gsub(/[^0-9]+/, " ", m)
    split(m, cnt, " ")
    return substr(s, RLENGTH + 1)
}
function check_bracket() {
    if (!accum && (cnt[3] != 0 || cnt[4] != 0))
        err("accumulated pair is not [0: 0] without prof_accum")
}
function end_block() {
    if (inblock && exact && (bsum[1] != btot[1] || bsum[2] != btot[2]))
        err(sprintf("block ending before this line: t* %d: %d but its thread lines add up to %d: %d", btot[1], btot[2], bsum[1], bsum[2]))
    inblock = 0
}
BEGIN { state = "first" }
state == "first" {
    if ($0 !~ /^heap_v2\/[0-9]+$/)
        err("first line is not heap_v2/<period>")
    period = substr($0, 9)
    state = "total"
    next
}
state == "total" {
    if (substr($0, 1, 6) != "  t*: " || counts(substr($0, 7)) != "")
        err("second line is not '  t*: c: b [ac: ab]'")
    check_bracket()
    for (i = 1; i <= 4; i++) htot[i] = cnt[i]
    state = "threads"
    next
}
state == "threads" && /^  t[0-9]+: / {
    uid = substr($1, 2, length($1) - 2)
    rest = counts(substr($0, length($1) + 4))
    if (rest == "BAD" || (rest != "" && rest !~ /^ ./))
        err("bad thread header line")
    check_bracket()
    if (uid in hthr)
        err("thread " uid " listed twice in the header")
    hthr[uid] = cnt[1] " " cnt[2]
    nthreads++
    next
}
(state == "threads" || state == "stacks") && /^@/ {
    end_block()
    if ($0 !~ /^@( 0x[0-9a-f]+)+$/)
        err("bad backtrace line")
    if ($0 in seen)
        err("backtrace listed twice")
    seen[$0] = 1
    nstacks++
    state = "stack_total"
    next
}
state == "stack_total" {
    if (substr($0, 1, 6) != "  t*: " || counts(substr($0, 7)) != "")
        err("a backtrace is not followed by '  t*: c: b [ac: ab]'")
    check_bracket()
    if (cnt[1] == 0 && !accum)
        err("block with 0 live objects (jemalloc omits these)")
    if (cnt[1] == 0 && cnt[3] == 0)
        err("block with no live and no accumulated objects")
    for (i = 1; i <= 4; i++) { btot[i] = cnt[i]; stot[i] += cnt[i] }
    bsum[1] = bsum[2] = 0
    inblock = 1
    state = "stacks"
    next
}
state == "stacks" && /^  t[0-9]+: / {
    uid = substr($1, 2, length($1) - 2)
    if (counts(substr($0, length($1) + 4)) != "")
        err("bad thread line in a block (names belong on header lines only)")
    check_bracket()
    bsum[1] += cnt[1]; bsum[2] += cnt[2]
    tsum[uid, 1] += cnt[1]; tsum[uid, 2] += cnt[2]
    next
}
(state == "threads" || state == "stacks") && $0 == "" {
    end_block()
    state = "blank"
    next
}
state == "blank" {
    if ($0 != "MAPPED_LIBRARIES:")
        err("the empty line is not followed by MAPPED_LIBRARIES:")
    state = "maps"
    next
}
state == "maps" && /^# build_id / {
    # ours: the build ID of the code at an address (jeprof skips such lines)
    if ($0 !~ /^# build_id 0x[0-9a-f]+ [0-9a-f]+$/)
        err("bad build_id line")
    if (ntime)
        err("a line after # time_ns")
    nbid++
    next
}
state == "maps" && /^# peak_time_ns / {
    # ours, peak dumps only, before time_ns: when the snapshot was taken
    if ($0 !~ /^# peak_time_ns [0-9]+$/)
        err("bad peak_time_ns line")
    if (ntime || npeak)
        err("a peak_time_ns line after # time_ns or a second one")
    npeak++
    next
}
state == "maps" && /^# time_ns / {
    # ours, the last line: when the dump was taken (jeprof-c --growth)
    if ($0 !~ /^# time_ns [0-9]+$/)
        err("bad time_ns line")
    ntime++
    next
}
state == "maps" {
    if (ntime)
        err("a line after # time_ns")
    if ($0 !~ /^[0-9a-f]+-[0-9a-f]+ [r-][w-][x-][ps] [0-9a-f]+ [0-9a-f]+:[0-9a-f]+ [0-9]+/)
        err("bad MAPPED_LIBRARIES line")
    nmaps++
    next
}
{ err("unexpected line (state " state ")") }
END {
    if (state != "maps")
        err("no MAPPED_LIBRARIES section at the end (truncated?)")
    else if (nmaps == 0)
        err("empty MAPPED_LIBRARIES section")
    if (ntime > 1)
        err("more than one # time_ns line")
    if (exact) {
        if (stot[1] != htot[1] || stot[2] != htot[2])
            err(sprintf("header t* %d: %d but blocks add up to %d: %d", htot[1], htot[2], stot[1], stot[2]))
        for (uid in hthr) {
            split(hthr[uid], h, " ")
            if (h[1] != tsum[uid, 1] + 0 || h[2] != tsum[uid, 2] + 0)
                err(sprintf("header t%s %d: %d but its block lines add up to %d: %d", uid, h[1], h[2], tsum[uid, 1], tsum[uid, 2]))
        }
    }
    if (nerr)
        exit 1
    printf "ok %s: period %s, %d stacks, %d threads, %d map lines\n", FILENAME, period, nstacks, nthreads, nmaps
}
