#!/usr/bin/env bash
# git under LD_PRELOAD=liballoc: init a repository, add and commit 400
# files, modify, branch, merge, tag, log, diff, gc (repack) and fsck. With
# fixed author/committer dates the commit and tree ids are deterministic,
# so the whole transcript must equal the glibc run's. A preloaded git's
# /proc/<pid>/maps (read through a shell alias) must list liballoc.
. "$(dirname "$0")/lib.sh"
need git
check_preload_maps
check_stats_print git --version

export HOME=$TMP/home GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME=tester GIT_AUTHOR_EMAIL=tester@example.invalid
export GIT_COMMITTER_NAME=tester GIT_COMMITTER_EMAIL=tester@example.invalid
export GIT_AUTHOR_DATE='2024-01-01T00:00:00Z' GIT_COMMITTER_DATE='2024-01-01T00:00:00Z'
export LC_ALL=C TZ=UTC
mkdir -p "$HOME"

# Files: same content in both runs (generated without the preload).
gen_files() { # dir round
    local d=$1 r=$2
    mkdir -p "$d/src/a" "$d/src/b" "$d/doc"
    awk -v r="$r" -v d="$d" 'BEGIN {
        for (i = 0; i < 400; i++) {
            f = d "/" (i % 3 == 0 ? "src/a" : i % 3 == 1 ? "src/b" : "doc") "/file" i ".txt"
            n = 20 + (i * 7) % 200
            for (j = 0; j < n; j++) printf "line %d of file %d round %d %s\n", j, i, (j % 17 == 0 ? r : 0), (i * j) % 9973 > f
            close(f)
        }
    }'
}

scenario() { # dir cmd-prefix...
    local d=$1; shift
    local g=("$@" git -C "$d")
    mkdir -p "$d"
    "${g[@]}" init -q -b main . || return 1
    gen_files "$d" 0
    "${g[@]}" add -A && "${g[@]}" commit -q -m "initial: 400 files" || return 1
    "${g[@]}" checkout -q -b feature
    gen_files "$d" 1
    "${g[@]}" commit -q -am "feature: touch every 17th line" || return 1
    "${g[@]}" checkout -q main
    echo "main change" >>"$d/doc/file2.txt"
    "${g[@]}" commit -q -am "main: one line" || return 1
    "${g[@]}" merge -q --no-edit feature || return 1
    "${g[@]}" tag -a v1 -m "tag v1"
    "${g[@]}" log --format='%H %T %s' --graph
    "${g[@]}" diff --stat HEAD~2 HEAD | tail -1
    "${g[@]}" rev-list --count --all
    "${g[@]}" gc -q || return 1
    "${g[@]}" fsck --full --strict 2>&1 || return 1
    "${g[@]}" count-objects -v | grep -E '^(count|in-pack|packs):'
    "${g[@]}" show --format='%H' -s v1^{commit}
    "${g[@]}" ls-tree -r HEAD | sha256sum
    "${g[@]}" grep -c "round 1" HEAD -- src/a | wc -l
}

scenario "$TMP/ref" env -u MALLOC_CONF >"$TMP/ref.out" 2>&1 || fail "reference git run failed: $(tail -5 "$TMP/ref.out")"
[ "$(grep -c '^[*|\\/ ]*[0-9a-f]\{40\} ' "$TMP/ref.out")" -eq 4 ] || fail "reference log lacks 4 commits: $(head -8 "$TMP/ref.out")"
scenario "$TMP/pre" env -u MALLOC_CONF LD_PRELOAD="$LIB" >"$TMP/pre.out" 2>&1 || fail "git under liballoc failed: $(tail -5 "$TMP/pre.out")"
same_output "git" "$TMP/ref.out" "$TMP/pre.out"

# The preloaded git itself maps liballoc: its alias shell reads the parent's maps.
maps=$(env LD_PRELOAD="$LIB" git -C "$TMP/pre" -c 'alias.maps=!cat /proc/$PPID/maps' maps) || fail "git alias failed"
grep -qF "$LIB" <<<"$maps" || fail "git run with LD_PRELOAD does not map $LIB"
echo "git: HEAD $(grep -o -m1 "[0-9a-f]\{40\}" "$TMP/ref.out" | head -1), transcript identical under liballoc"
