#!/usr/bin/env bash
# The manuals liballoc(3) and jeprof-c(1) that `make` generates
# (man/man.mk): each renders with no groff or man warning, liballoc(3)
# has an entry for every option of liballoc/options.def and a documented
# entry for every mallctl leaf the build answers, jeprof-c(1) lists every
# option of `jeprof-c --help` and of `jeprof-c record --help`, and both
# carry the release of the VERSION file, as does `jeprof-c --version`.
. "$(dirname "$0")/lib.sh"
need man
need groff
MAN3=$ROOT/build/man/liballoc.3
MAN1=$ROOT/build/man/jeprof-c.1
JEPROF=$ROOT/build/jeprof-c
[ -f "$MAN3" ] && [ -f "$MAN1" ] || fail "build/man/ not built (run make)"
version=$(cat "$ROOT/VERSION")

for page in "$MAN3" "$MAN1"; do
    warn=$(MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
    [ -z "$warn" ] || fail "$(basename "$page") renders with warnings: $warn"
    MANWIDTH=80 man -E UTF-8 -l "$page" 2>/dev/null >"$TMP/$(basename "$page").txt"
    grep -q "liballoc $version" "$TMP/$(basename "$page").txt" ||
        fail "$(basename "$page") does not name release $version"
done
echo "ok   both pages render without warnings and name release $version"

# Every option of options.def, with its type, in the OPTIONS table.
opts=$(sed -n 's/^OPT_[A-Z]*(\([a-z_0-9]*\),.*/\1/p' "$ROOT/liballoc/options.def")
[ "$(echo "$opts" | wc -l)" -ge 30 ] || fail "could not read the options of options.def"
missing=""
for o in $opts; do
    grep -Eq "^       $o \((bool|unsigned|size_t|ssize_t|string)\)\$" "$TMP/liballoc.3.txt" ||
        missing="$missing $o"
done
[ -z "$missing" ] || fail "options missing from liballoc(3):$missing"
echo "ok   liballoc(3) has all $(echo "$opts" | wc -w) options of options.def"

# Each numeric option's stated default is a value it accepts: a default
# outside the range is a placeholder replaced at start (narenas:
# CPUs), never shown as the number (the manual said "Default 0.
# Range 1 to 2048" and "Default 4096. Range 0 to 4095").
bad=$(awk '/^\\fB[a-z_0-9]+\\fR \(\\fI(unsigned|size_t|ssize_t)\\fR\)$/ {
        name = $1; gsub(/\\f[BR]/, "", name); d = ""; next }
    name != "" && /^Default \\fB-?[0-9]+\\fR\.$/ { d = $2; gsub(/\\f[BR]|\./, "", d); gsub(/\\-/, "-", d); next }
    name != "" && /^Range / { lo = $2; hi = $4; gsub(/[.;]/, "", hi); gsub(/\\-/, "-", lo)
        if (d != "" && (d + 0 < lo + 0 || d + 0 > hi + 0)) print name " default " d " outside " lo ".." hi
        name = "" }' "$MAN3")
[ -z "$bad" ] || fail "liballoc(3) states defaults the options refuse: $bad"
grep -q '^Default computed at start (as described above); \\fBopt.narenas\\fR reads it back\.$' "$MAN3" ||
    fail "narenas: the default computed at start is not said"
# The options' texts speak to users: no pointers into the source tree
# (options.def's "(warn.h)", "; see numa.h") and no doubled full stop.
opts_text=$(sed -n '/^\.SH TUNING/,/^\.SH MALLCTL NAMESPACE/p' "$MAN3")
refs=$(printf '%s\n' "$opts_text" | grep -oE '\b[a-z_0-9]+\.h\b' | grep -vxE 'alloc\.h|jemalloc\.h' | sort -u | tr '\n' ' ')
[ -z "$refs" ] || fail "liballoc(3) OPTIONS point into the source: $refs"
dots=$(printf '%s\n' "$opts_text" | grep -E '[^.]\.\.($|[^.])') && fail "doubled full stop in liballoc(3): $dots"
# Every kind of dump the profiler writes is named, the peak's .p<n>. too.
for k in i u m p; do
    grep -q "^\\.BI $k n\$" "$MAN3" || fail "liballoc(3) does not name the dump kind $k<n>"
done
echo "ok   liballoc(3) options: defaults within range, no source pointers, every dump kind named"

# Every mallctl leaf documented (the generator lists undocumented ones).
grep -q 'Not documented yet' "$MAN3" &&
    fail "undocumented mallctl names in liballoc(3): $(grep -B1 'Not documented yet' "$MAN3" | sed -n 's/^\\fB\(.*\)\\fR$/\1/p' | tr '\n' ' ') (add them to man/mallctl.txt)"
for n in 'stats.arenas.<i>.bins.<j>.curregs' 'arena.<i>.purge' 'opt.prof_format' 'liballoc.version' \
    'prof.recent_alloc_dump_filtered' 'epoch'; do
    grep -Eq "^       $n( |\$)" "$TMP/liballoc.3.txt" || fail "mallctl $n missing from liballoc(3)"
done
echo "ok   every mallctl leaf of this build is documented"

# jeprof-c(1): every option of the program's own --help.
for help in "$("$JEPROF" --help)" "$("$JEPROF" record --help)"; do
    for o in $(printf '%s\n' "$help" | sed -n 's/^    \(-[-a-z_]*\).*/\1/p'); do
        grep -q -- "^       $o" "$TMP/jeprof-c.1.txt" || fail "jeprof-c(1) lacks $o"
    done
done
echo "ok   jeprof-c(1) lists every option of --help and record --help"

# jeprof-c(1)'s SYNOPSIS has every form that `jeprof-c --help` names in its
# usage lines (--growth, each subcommand), not a hand-kept subset.
MANWIDTH=250 man -E UTF-8 -l "$MAN1" 2>/dev/null | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed 's/^ *//; s/  */ /g' >"$TMP/synopsis"
n=0
while IFS= read -r form; do
    grep -qxF -- "$form" "$TMP/synopsis" || fail "jeprof-c(1) SYNOPSIS lacks '$form' (has: $(tr '\n' '|' <"$TMP/synopsis"))"
    n=$((n + 1))
done < <("$JEPROF" --help | sed -n 's/^\(usage\|   or\): *//p' | sed 's/   *(.*)$//; s/  */ /g')
[ "$n" -ge 3 ] || fail "jeprof-c --help names $n usage forms, expected at least 3"
echo "ok   jeprof-c(1) SYNOPSIS has all $n usage forms of jeprof-c --help"

"$JEPROF" --version | grep -q "^jeprof-c $version " || fail "jeprof-c --version: $("$JEPROF" --version)"
echo "ok   jeprof-c --version names $version"
