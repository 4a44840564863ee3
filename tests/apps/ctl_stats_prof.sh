#!/usr/bin/env bash
# malloc_stats_print's profiling section and the new stats keys, JSON ("J",
# parsed by python3's json) and text, against the mallctls they report. A
# program linked with -lalloc sets prof.active (to the opposite of
# opt.prof_active, so a report that printed the option would be caught),
# calls realloc(p, 0) three times, and prints the report and then its own
# mallctl readings as a JSON object. Checked, as jemalloc 5.3 lays it out:
#   - jemalloc.prof = {thread_active_init, active, gdump, interval,
#     lg_sample}, between "opt" and "arenas", each equal to the mallctl
#     prof.<name> (and lg_sample to opt.lg_prof_sample, interval to
#     2^lg_prof_interval), under prof:true with lg_prof_sample:13,
#     lg_prof_interval:22, prof_gdump:true, and with prof off (all false/0);
#   - jemalloc.stats.zero_reallocs == 3; jemalloc.stats.background_thread
#     = {num_threads, num_runs, run_interval} equal to the stats.* mallctls,
#     one thread with background_thread:true,max_background_threads:1;
#   - text: "Profiling settings" with "  prof.lg_sample: 13" etc., and
#     "Background threads: 1, num_runs: N, run_interval: N ns";
#   - "Jg" (no general section) has no "prof" object.
. "$(dirname "$0")/lib.sh"
need python3

REPORT=$(app_bin apps/ctl_stats_prof_report) || exit 1

# check CONF OPTS PYTHON: run, split report and readings, parse, assert.
check() {
    local conf=$1 opts=$2 code=$3
    (cd "$TMP" && env MALLOC_CONF="$conf" "$REPORT" "$opts") >"$TMP/out" || fail "$conf: report exited $?"
    sed -n '/^MALLCTL /s/^MALLCTL //p' "$TMP/out" >"$TMP/m.json"
    sed '/^MALLCTL /d' "$TMP/out" >"$TMP/r.txt"
    python3 - "$TMP/r.txt" "$TMP/m.json" >"$TMP/py.out" 2>&1 <<EOF
import json, sys
m = json.load(open(sys.argv[2]))
text = open(sys.argv[1]).read()
def check(cond, msg):
    if not cond:
        print(msg)
        sys.exit(1)
$code
EOF
    [ $? -eq 0 ] || fail "MALLOC_CONF=$conf, \"$opts\": $(head -3 "$TMP/py.out")"
}

json_prof='
d = json.loads(text)["jemalloc"]
keys = list(d)
check("prof" in d, "no jemalloc.prof object (keys %r)" % keys)
check(keys.index("opt") < keys.index("prof") < keys.index("arenas"), "prof is not between opt and arenas: %r" % keys)
p = d["prof"]
check(list(p) == ["thread_active_init", "active", "gdump", "interval", "lg_sample"], "jemalloc.prof keys %r" % list(p))
for k in ("thread_active_init", "active", "gdump", "interval", "lg_sample"):
    check(p[k] == m[k] and type(p[k]) == type(m[k]), "jemalloc.prof.%s is %r, prof.%s says %r" % (k, p[k], k, m[k]))
s = d["stats"]
check(s.get("zero_reallocs") == 3 == m["zero_reallocs"], "stats.zero_reallocs %r (mallctl %r), want 3" % (s.get("zero_reallocs"), m["zero_reallocs"]))
b = s.get("background_thread")
check(isinstance(b, dict) and list(b) == ["num_threads", "num_runs", "run_interval"], "stats.background_thread %r" % (b,))
'
# prof on, with prof.active flipped at run time.
check prof:true,lg_prof_sample:13,lg_prof_interval:22,prof_gdump:true J "$json_prof"'
check(p["lg_sample"] == 13 == m["opt_lg_prof_sample"], "lg_sample %r" % p["lg_sample"])
check(p["interval"] == 1 << 22, "interval %r, want 2^22" % p["interval"])
check(p["gdump"] is True and p["thread_active_init"] is True, "gdump/thread_active_init %r" % p)
check(p["active"] is False, "prof.active was set to false at run time; the report says %r" % p["active"])
check(b["num_threads"] == 0 == m["num_threads"] and b["num_runs"] == 0, "background threads without background_thread: %r" % b)
'
# prof off: jemalloc reads false and 0.
check lg_prof_sample:15 J "$json_prof"'
check(p == {"thread_active_init": False, "active": False, "gdump": False, "interval": 0, "lg_sample": 0}, "prof off: %r" % p)
'
# One background thread: its counters as the mallctls say (taken in the same epoch).
check background_thread:true,max_background_threads:1 J "$json_prof"'
check(b["num_threads"] == 1 == m["num_threads"], "num_threads %r (mallctl %r), want 1" % (b["num_threads"], m["num_threads"]))
check(b["num_runs"] >= m["num_runs"] >= 2, "num_runs %r (mallctl %r), want >= 2" % (b["num_runs"], m["num_runs"]))
check(b["run_interval"] >= 40000000, "run_interval %r ns, want about 50 ms" % b["run_interval"])
check(d["opt"].get("max_background_threads") == 1, "opt.max_background_threads %r" % d["opt"].get("max_background_threads"))
'
# Jg: no general section, so no prof object.
check prof:true Jg '
d = json.loads(text)["jemalloc"]
check("prof" not in d and "opt" not in d, "\"Jg\" keys %r" % list(d))
check(d["stats"]["zero_reallocs"] == 3, "Jg stats %r" % d["stats"])
'
# Text form.
check prof:true,lg_prof_sample:13,prof_gdump:true,background_thread:true,max_background_threads:1 "" '
import re
lines = text.splitlines()
check("Profiling settings" in lines, "no \"Profiling settings\" line")
i = lines.index("Profiling settings")
want = ["  prof.thread_active_init: true", "  prof.active: false", "  prof.gdump: true",
        "  prof.interval: 0", "  prof.lg_sample: 13"]
check(lines[i + 1:i + 6] == want, "profiling settings %r" % lines[i + 1:i + 6])
bg = [l for l in lines if l.startswith("Background threads: ")]
check(len(bg) == 1 and re.match(r"^Background threads: 1, num_runs: [1-9][0-9]*, run_interval: [1-9][0-9]* ns$", bg[0]), "background line %r" % bg)
check("zero_reallocs: 3" in lines, "no \"zero_reallocs: 3\" line")
'
echo "ctl_stats_prof: prof section (JSON and text) matches prof.* mallctls; zero_reallocs and background_thread stats present"
