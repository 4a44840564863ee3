#!/usr/bin/env bash
# man_subst.sh TEMPLATE VERSION [@MARK@=FILE...]: prints TEMPLATE with
# @VERSION@ replaced and each line that is exactly @MARK@ replaced by FILE's
# contents. Fails if a mark is missing from the template or a file is
# unreadable, so a broken manual never gets built.
set -eu
tmpl=$1 version=$2
shift 2
for pair in "$@"; do
    mark=${pair%%=*} file=${pair#*=}
    grep -qx -- "$mark" "$tmpl" || { echo "error: '$tmpl' has no line $mark" >&2; exit 1; }
    [ -r "$file" ] || { echo "error: cannot read '$file'" >&2; exit 1; }
done
awk -v version="$version" -v pairs="$*" '
BEGIN { n = split(pairs, p, " "); for (i = 1; i <= n; i++) { eq = index(p[i], "="); file[substr(p[i], 1, eq - 1)] = substr(p[i], eq + 1) } }
($0 in file) { while ((getline l < file[$0]) > 0) print l; close(file[$0]); next }
{ gsub(/@VERSION@/, version); print }
' "$tmpl"
