#!/usr/bin/env bash
# malloc_stats_print's JSON ("J") through a strict parser (python3's json),
# and MALLOC_CONF=stats_print:true printing the report at exit. A small
# program linked with -lalloc holds a 10 MiB block, uses arenas 0 and 1 and
# prints the report with the options given. Checked, as jemalloc 5.3 does:
#   - "J" parses; jemalloc.version is the version string; jemalloc.stats has
#     allocated (>= the 10 MiB held), active >= allocated, metadata,
#     0 < resident <= mapped (resident is measured, so pages never touched
#     are not in it and it may be below active), mapped >= active, retained; stats.arenas has "0"
#     and "1" with pactive/pdirty/pmuzzy;
#   - "Jg" drops version/config/opt and keeps stats; "Ja" drops the
#     per-arena objects; each variant parses;
#   - stats_print:true prints one text report on stderr at exit;
#     stats_print_opts:J makes that report JSON that parses;
#   - then the sections liballoc may lack: stats.arenas.merged (two arenas
#     in use) which "Jm" removes, and per-arena "bins" (a list of objects
#     with nmalloc/ndalloc/curregs) which "Jb" removes;
#   - jemalloc.arenas' class tables (bin[0].size is 8), config keys and the
#     opt.* members of liballoc's fixed behaviour (opt.dss "disabled"...), the
#     large classes' live blocks (lextents) per arena and merged, which "Jl"
#     removes, and the small.nrequests/nfills/nflushes keys.
. "$(dirname "$0")/lib.sh"
need python3

REPORT=$(app_bin apps/ctl_stats_print_report) || exit 1
version=$(sed -n 's/^#define JEMALLOC_VERSION  *"\(.*\)"$/\1/p' "$ROOT/include/alloc.h")
[ -n "$version" ] || fail "no JEMALLOC_VERSION in include/alloc.h"

# check_json NAME FILE PYTHON-ASSERTIONS: strict parse, then the assertions
# on d = the "jemalloc" object (each failing assert names itself).
check_json() {
    local what=$1 file=$2 code=$3
    python3 - "$file" "$version" >"$TMP/py.out" 2>&1 <<EOF
import json, sys
def no_constants(name):
    raise ValueError("non-JSON constant " + name)
with open(sys.argv[1]) as f:
    text = f.read()
try:
    root = json.loads(text, parse_constant=no_constants)
except ValueError as e:
    print("does not parse as JSON: %s" % e)
    sys.exit(1)
version = sys.argv[2]
assert isinstance(root, dict) and list(root) == ["jemalloc"], "top level is not {\"jemalloc\": ...}: %r" % list(root)[:5]
d = root["jemalloc"]
def check(cond, msg):
    if not cond:
        print(msg)
        sys.exit(1)
$code
EOF
    local rc=$?
    [ $rc -eq 0 ] || fail "$what: $(head -3 "$TMP/py.out")"
}

MiB=$((1 << 20))
base_checks='
s = d.get("stats")
check(isinstance(s, dict), "no jemalloc.stats object")
for k in ("allocated", "active", "metadata", "resident", "mapped", "retained"):
    check(isinstance(s.get(k), int), "jemalloc.stats.%s missing or not an integer: %r" % (k, s.get(k)))
check(s["allocated"] >= 10 * 1048576, "stats.allocated %d < the 10 MiB held" % s["allocated"])
check(s["active"] >= s["allocated"], "stats.active %d < allocated %d" % (s["active"], s["allocated"]))
check(0 < s["resident"] <= s["mapped"], "stats.resident %d not in (0, mapped %d]" % (s["resident"], s["mapped"]))
check(s["mapped"] >= s["active"], "stats.mapped %d < active %d" % (s["mapped"], s["active"]))
'

# J: everything.
env -u MALLOC_CONF "$REPORT" J >"$TMP/j.json" || fail "report J exited $?"
[ -s "$TMP/j.json" ] || fail "malloc_stats_print(\"J\") wrote nothing"
check_json 'malloc_stats_print("J")' "$TMP/j.json" "$base_checks"'
check(d.get("version") == version, "jemalloc.version is %r, want %r" % (d.get("version"), version))
check(isinstance(d.get("opt"), dict) and d["opt"].get("narenas") is not None, "no jemalloc.opt.narenas")
a = d.get("stats.arenas")
check(isinstance(a, dict), "no jemalloc[\"stats.arenas\"] object")
for i in ("0", "1"):
    check(isinstance(a.get(i), dict), "stats.arenas has no arena %s (keys %r)" % (i, list(a)))
    for k in ("pactive", "pdirty", "pmuzzy"):
        check(isinstance(a[i].get(k), int), "stats.arenas.%s.%s missing" % (i, k))
'
# Jg: no general section.
env -u MALLOC_CONF "$REPORT" Jg >"$TMP/jg.json" || fail "report Jg exited $?"
check_json 'malloc_stats_print("Jg")' "$TMP/jg.json" "$base_checks"'
for k in ("version", "config", "opt"):
    check(k not in d, "\"Jg\" still has jemalloc.%s" % k)
'
# Ja: no per-arena objects.
env -u MALLOC_CONF "$REPORT" Ja >"$TMP/ja.json" || fail "report Ja exited $?"
check_json 'malloc_stats_print("Ja")' "$TMP/ja.json" "$base_checks"'
check(d.get("version") == version, "\"Ja\" lost jemalloc.version")
a = d.get("stats.arenas", {})
check("0" not in a and "1" not in a, "\"Ja\" still has per-arena objects: %r" % list(a))
'

# stats_print:true prints one text report on stderr at exit.
env MALLOC_CONF=stats_print:true "$REPORT" - >"$TMP/out" 2>"$TMP/err" || fail "stats_print:true: exit $?"
[ ! -s "$TMP/out" ] || fail "stats_print:true wrote to stdout: $(head -2 "$TMP/out")"
[ "$(head -1 "$TMP/err")" = "___ Begin jemalloc statistics ___" ] ||
    fail "stats_print:true: stderr starts with \"$(head -1 "$TMP/err")\""
[ "$(tail -1 "$TMP/err")" = "--- End jemalloc statistics ---" ] ||
    fail "stats_print:true: stderr ends with \"$(tail -1 "$TMP/err")\""
[ "$(grep -c '^___ Begin jemalloc statistics ___$' "$TMP/err")" = 1 ] || fail "stats_print:true printed the report more than once"
grep -q '^Allocated: ' "$TMP/err" || fail "stats_print:true report has no Allocated: line"
# Without it, nothing at exit.
env -u MALLOC_CONF "$REPORT" - >"$TMP/out" 2>"$TMP/err" || fail "report -: exit $?"
[ ! -s "$TMP/err" ] || fail "without stats_print the program wrote to stderr: $(head -2 "$TMP/err")"
# stats_print_opts:J: the report at exit is JSON.
env MALLOC_CONF=stats_print:true,stats_print_opts:J "$REPORT" - >"$TMP/out" 2>"$TMP/exit.json" ||
    fail "stats_print_opts:J: exit $?"
check_json "stats_print:true,stats_print_opts:J (at exit)" "$TMP/exit.json" '
check(d.get("version") == version, "no jemalloc.version in the JSON printed at exit")
check(isinstance(d.get("stats", {}).get("allocated"), int), "no stats.allocated in the JSON printed at exit")
'

# Merged statistics (two arenas in use) and "Jm".
check_json 'malloc_stats_print("J") merged' "$TMP/j.json" '
check(isinstance(d["stats.arenas"].get("merged"), dict), "stats.arenas has no \"merged\" object with two arenas in use (keys %r)" % list(d["stats.arenas"]))
'
env -u MALLOC_CONF "$REPORT" Jm >"$TMP/jm.json" || fail "report Jm exited $?"
check_json 'malloc_stats_print("Jm")' "$TMP/jm.json" "$base_checks"'
a = d.get("stats.arenas", {})
check("merged" not in a, "\"Jm\" still has stats.arenas.merged")
check("0" in a and "1" in a, "\"Jm\" lost the per-arena objects: %r" % list(a))
'
# Bins per arena and "Jb".
check_json 'malloc_stats_print("J") bins' "$TMP/j.json" '
b = d["stats.arenas"]["0"].get("bins")
check(isinstance(b, list) and len(b) > 0, "stats.arenas.0 has no \"bins\" list: %r" % (b,))
for k in ("nmalloc", "ndalloc", "curregs"):
    check(all(isinstance(x.get(k), int) for x in b), "a bins entry lacks integer %s" % k)
check(sum(x["nmalloc"] for x in b) > 0, "stats.arenas.0.bins: no allocation counted")
'
env -u MALLOC_CONF "$REPORT" Jb >"$TMP/jb.json" || fail "report Jb exited $?"
check_json 'malloc_stats_print("Jb")' "$TMP/jb.json" "$base_checks"'
check("bins" not in d["stats.arenas"]["0"], "\"Jb\" still has stats.arenas.0.bins")
'
# jemalloc.arenas (the class tables) and config, as jemalloc 5.3 prints
# them, with our values (arenas.bin.<j>.* and arenas.lextent.<j>.size), and
# the live large blocks per class ("lextents") in merged and per-arena stats:
# the report holds one 10 MiB block (arena 0) and one of 300000 bytes
# (usable 327680, arena 1).
check_json 'malloc_stats_print("J") arenas and lextents' "$TMP/j.json" '
ar = d.get("arenas", {})
for k in ("narenas", "dirty_decay_ms", "muzzy_decay_ms", "quantum", "page", "tcache_max", "nbins", "nhbins", "bin", "nlextents", "lextent"):
    check(k in ar, "jemalloc.arenas has no %s (keys %r)" % (k, list(ar)))
check(ar["bin"][0]["size"] == 8 and ar["bin"][0]["nregs"] == 4096 and ar["bin"][0]["slab_size"] == 65536,
      "jemalloc.arenas.bin[0] is %r, want size 8, nregs 4096, slab_size 65536" % (ar["bin"][0],))
check(len(ar["bin"]) == ar["nbins"] == 41, "%d bins listed, nbins %d, want 41" % (len(ar["bin"]), ar["nbins"]))
check(ar["bin"][40]["size"] == 32768, "the last bin is %r, want size 32768" % (ar["bin"][40],))
check(len(ar["lextent"]) == ar["nlextents"] == 188, "%d lextents listed, nlextents %d, want 188" % (len(ar["lextent"]), ar["nlextents"]))
check(ar["lextent"][0]["size"] == 40960 and ar["lextent"][187]["size"] == 1 << 62, "lextent sizes %r .. %r" % (ar["lextent"][0], ar["lextent"][187]))
check(ar["dirty_decay_ms"] == 10000 and ar["muzzy_decay_ms"] == 0, "arenas decay %r/%r" % (ar["dirty_decay_ms"], ar["muzzy_decay_ms"]))
check(ar["tcache_max"] == 131072, "arenas.tcache_max %r" % ar["tcache_max"])
want = ["cache_oblivious", "debug", "fill", "lazy_lock", "malloc_conf", "opt_safety_checks", "prof", "prof_libgcc", "prof_libunwind", "stats", "utrace", "xmalloc"]
check(list(d.get("config", {})) == want, "jemalloc.config keys %r, want %r" % (list(d.get("config", {})), want))
check(d["config"]["cache_oblivious"] is False and d["config"]["prof"] is True, "config values %r" % d["config"])
o = d["opt"]
fixed = {"oversize_threshold": 0, "dss": "disabled", "metadata_thp": "disabled", "cache_oblivious": False,
         "trust_madvise": True, "stats_interval": -1, "stats_interval_opts": ""}
check(all(k in o and o[k] == v and type(o[k]) == type(v) for k, v in fixed.items()),
      "jemalloc.opt fixed options %r, want %r" % ({k: o.get(k) for k in fixed}, fixed))
sizes = [x["size"] for x in ar["lextent"]]
big, mid = sizes.index(10 << 20), sizes.index(327680)
a = d["stats.arenas"]
for key in ("merged", "0", "1"):
    lx = a[key].get("lextents")
    check(isinstance(lx, list) and len(lx) == 188, "stats.arenas.%s.lextents is not a list of 188: %r" % (key, type(lx)))
check(a["0"]["lextents"][big]["curlextents"] == 1, "arena 0: %r live 10 MiB blocks, want 1" % a["0"]["lextents"][big])
check(a["1"]["lextents"][mid]["curlextents"] == 1 and a["1"]["lextents"][big]["curlextents"] == 0,
      "arena 1: live 327680-byte blocks %r, 10 MiB %r" % (a["1"]["lextents"][mid], a["1"]["lextents"][big]))
check(a["merged"]["lextents"][big]["curlextents"] == 1 and a["merged"]["lextents"][mid]["curlextents"] == 1,
      "merged lextents %r %r" % (a["merged"]["lextents"][big], a["merged"]["lextents"][mid]))
check(a["1"]["uptime_ns"] >= 0 and a["0"]["dirty_decay_ms"] == 10000, "arena 0 %r" % {k: a["0"][k] for k in ("uptime_ns", "dirty_decay_ms")})
for k in ("nrequests", "nfills", "nflushes"):
    check(isinstance(a["0"]["small"].get(k), int), "stats.arenas.0.small lacks %s" % k)
check(a["0"]["small"]["nrequests"] == a["0"]["small"]["nmalloc"] > 0, "small %r" % a["0"]["small"])
check(a["0"]["small"]["nfills"] > 0, "stats.arenas.0.small.nfills is 0")
b = a["0"]["bins"]
check(all(x["nrequests"] == x["nmalloc"] and x["nonfull_slabs"] <= x["curslabs"] <= x["nslabs"] for x in b),
      "a bins entry breaks nrequests == nmalloc, nonfull_slabs <= curslabs <= nslabs")
'
env -u MALLOC_CONF "$REPORT" Jl >"$TMP/jl.json" || fail "report Jl exited $?"
check_json 'malloc_stats_print("Jl")' "$TMP/jl.json" "$base_checks"'
check("lextents" not in d["stats.arenas"]["0"], "\"Jl\" still has stats.arenas.0.lextents")
'
# Option values are JSON strings whatever they hold: a quote and a
# backslash in prof_prefix and stats_print_opts (the exit report's own
# options) once ended the string early.
env MALLOC_CONF='stats_print:true,stats_print_opts:J"x,prof:true,prof_prefix:'"$TMP"'/a"b\c' \
    "$REPORT" - >/dev/null 2>"$TMP/q.json" || fail "stats_print with a quoted prof_prefix: exit $?"
check_json 'stats_print_opts:J"x at exit' "$TMP/q.json" '
check(d["opt"]["prof_prefix"].endswith("/a\"b\\c"), "opt.prof_prefix read back as %r" % d["opt"]["prof_prefix"])
check(d["opt"]["stats_print_opts"] == "J\"x", "opt.stats_print_opts read back as %r" % d["opt"]["stats_print_opts"])
'
echo "ctl_stats_print: JSON (J, Jg, Ja, Jm, Jb, Jl) parses with the expected sections; stats_print:true prints at exit"
