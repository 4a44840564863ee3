#!/usr/bin/env bash
# man_jeprof.sh JEPROF_C [--synopsis]: prints the OPTIONS part of jeprof-c(1) in roff,
# made from the program's own --help (its option table, jeprof-c/options.c),
# so the manual lists exactly the options the binary accepts. Subcommands are
# those the usage lines name ("or: jeprof-c SUB ..."); each gets its own
# subsection from `jeprof-c SUB --help`. Fails when --help fails or prints
# no option.
set -eu
prog=$1

# Converts one --help text (stdin) to roff: headings ("Output (one of):")
# become .SS, option rows ("    --name=X    text") become .TP items; the
# usage lines are skipped (the template's SYNOPSIS has them).
to_roff() {
    awk -v sub_title="$1" '
    function esc(s) { gsub(/\\/, "\\e", s); gsub(/-/, "\\-", s); return s }
    BEGIN { if (sub_title != "") printf ".SS \"%s\"\n", esc(sub_title) }
    /^usage:/ || /^   or:/ { next }
    /^$/ { next }
    /^[^ ].*:$/ { printf ".SS \"%s\"\n", esc(substr($0, 1, length($0) - 1)); next }
    /^    [^ ]/ && n >= 0 {
        line = substr($0, 5)
        split(line, parts, /  +/)
        left = parts[1]
        text = substr(line, length(left) + 1); sub(/^ +/, "", text)
        printf ".TP\n.B %s\n", esc(left)
        if (text != "") print lit(esc(text))
        n++
        next
    }
    # Anything else (a continuation line, a note): kept as text of the
    # current item or paragraph.
    { t = $0; sub(/^ +/, "", t); print lit(esc(t)) }
    function lit(s) { return s ~ /^[.\047]/ ? "\\&" s : s }
    END { if (n == 0) exit 1 }'
}

help=$("$prog" --help) || { echo "error: '$prog --help' failed" >&2; exit 1; }

# man_jeprof.sh JEPROF_C --synopsis: the SYNOPSIS lines instead, one per
# usage line of --help ("usage: jeprof-c ...", "   or: jeprof-c ..."), so
# a new subcommand or form (--growth, dump) is in the manual's synopsis
# as soon as the program names it; a trailing "   (comment)" is dropped.
if [ "${2:-}" = --synopsis ]; then
    printf '%s\n' "$help" | awk '
    function esc(s) { gsub(/\\/, "\\e", s); gsub(/-/, "\\-", s); return s }
    /^usage: / || /^   or: / {
        sub(/^(usage|   or): +/, ""); sub(/   +\(.*\)$/, "")
        prog = $1; rest = substr($0, length(prog) + 2)
        if ($2 ~ /^[a-z][a-z-]*$/) { prog = prog " " $2; rest = substr($0, length(prog) + 2) } # subcommand
        if (n++) print ".br"
        printf ".B \"%s\"\n", esc(prog)
        if (rest != "") print (rest ~ /^[.\047]/ ? "\\&" : "") esc(rest)
    }
    END { if (n == 0) exit 1 }' || { echo "error: '$prog --help' has no usage line" >&2; exit 1; }
    exit 0
fi

printf '%s\n' "$help" | to_roff ""
# A subcommand without --help of its own keeps its usage line only (and a
# warning), so a new subcommand never breaks the build.
printf '%s\n' "$help" | sed -n 's/^   or: [^ ]* \([a-z][a-z-]*\).*/\1 &/p' | while read -r sub line; do
    if subhelp=$("$prog" "$sub" --help 2>/dev/null) && printf '%s\n' "$subhelp" | grep -q '^    -'; then
        printf '%s\n' "$subhelp" | to_roff "jeprof-c $sub"
    else
        echo "warning: '$prog $sub --help' lists no options; jeprof-c(1) shows its usage line only" >&2
        printf '.SS "jeprof\\-c %s"\n' "$sub"
        printf '%s\n' "${line#*or: }" | sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^[.']/\\\\\&&/"
    fi
done
