#!/usr/bin/env bash
# Code unloaded before the dump (issue 12: when unsure, warn and show the
# raw address; never lend an address another name). A plugin allocates and
# is dlclose'd; another plugin is then loaded, at the same addresses when
# the loader reuses them (glibc does), and allocates too.
#  - The first plugin's bytes are named after it (plug_alloc) by jeprof-c
#    on heap_v2 and pprof, by Debian's jeprof and by go tool pprof: the
#    dump writes its stacks at an alias range listed as a mapping of its
#    file with its build ID (libprof/unloaded.h). Before, they were named
#    after the second plugin's code at those addresses.
#  - The second plugin's bytes are its own (its function at the first's
#    address, called from another line of the host).
#  - With the first plugin's file gone when the dump is read, heap_v2's
#    bytes are on libplug.so+offset and pprof's keep the name the dump took
#    from the file; never the other plugin's name.
# A dump whose maps section lists nothing readable gets a warning of its own.
set -u
. "$(dirname "$0")/lib_jeprof.sh"
. "$(dirname "$0")/lib_callsite.sh"
need gcc
cat >"$WORK/plug.c" <<'C'
#include <stdlib.h>
static volatile int calls;
__attribute__((noinline)) void *plug_alloc(size_t n)
{
    void *p = malloc(n); /* not a tail call: this frame must be on the stack */
    calls++;
    return p;
}
C
# The same shape and size, so that the loader maps it where plug was and
# its function lies at plug_alloc's address.
sed 's/plug_alloc/othr_alloc/' "$WORK/plug.c" >"$WORK/other.c"
cat >"$WORK/host.c" <<'C'
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
void *keep[30];
int main(int argc, char **argv)
{
    /* argv[3]: the two plugins loaded and unloaded in turn that many
     * times first (an unload record per module, not per unload). */
    for (int i = 0; argc > 3 && i < atoi(argv[3]); i++)
        for (int k = 1; k <= 2; k++) {
            void *t = dlopen(argv[k], RTLD_NOW);
            if (!t)
                return 1;
            dlclose(t);
        }
    void *h = dlopen(argv[1], RTLD_NOW);
    if (!h)
        return 1;
    void *(*f)(size_t) = (void *(*)(size_t))dlsym(h, "plug_alloc");
    for (int i = 0; i < 20; i++)
        keep[i] = f(30000);
    dlclose(h);
    if (argc > 2) {
        void *h2 = dlopen(argv[2], RTLD_NOW);
        if (!h2)
            return 1;
        void *(*g)(size_t) = (void *(*)(size_t))dlsym(h2, "othr_alloc");
        for (int i = 0; i < 10; i++)
            keep[20 + i] = g(3000);
        fprintf(stderr, "%s\n", (void *)g == (void *)f ? "same" : "moved");
    }
    return 0;
}
C
gcc -O2 -g -shared -fPIC -o "$WORK/libplug.so" "$WORK/plug.c" || fail "cannot build libplug.so"
gcc -O2 -g -shared -fPIC -o "$WORK/libother.so" "$WORK/other.c" || fail "cannot build libother.so"
gcc -O2 -g -o "$WORK/host" "$WORK/host.c" -ldl || fail "cannot build host"

# flat NAME OUT: the flat bytes of the row named NAME in a --text report.
flat() { awk -v n="$1" '$6 == n { print $1; exit }' "$2"; }

# A plugin unloaded, another one loaded where it was; first after the two
# were loaded and unloaded in turn 300 times (600 unloads: more than the
# 128 records, as many as there were unloads before).
rm -f "$WORK"/both.*
LD_PRELOAD=$LIBALLOC MALLOC_CONF=prof:true,lg_prof_sample:0,prof_final:true,prof_format:both,prof_prefix:$WORK/turns \
    "$WORK/host" "$WORK/libplug.so" "$WORK/libother.so" 300 2>/dev/null || fail "host (300 turns) failed"
TURNS=$(ls "$WORK"/turns.*.f.heap) || fail "no dump after 300 turns"
"$JEPROF_C" --quiet --text --show_bytes "$WORK/host" "$TURNS" >"$WORK/out.txt" 2>/dev/null || fail "jeprof-c failed"
awk '$6 == "plug_alloc" && $1 >= 600000 { ok = 1 } END { exit !ok }' "$WORK/out.txt" ||
    { cat "$WORK/out.txt"; fail "after 300 turns: plug_alloc does not hold its 20 x 30000 bytes"; }
awk '$6 == "othr_alloc" && $1 >= 40000 { bad = 1 } END { exit bad }' "$WORK/out.txt" ||
    { cat "$WORK/out.txt"; fail "after 300 turns: othr_alloc holds plug_alloc's bytes"; }
echo "ok   after 300 turns of the two plugins: plug_alloc keeps its bytes"
# Loaded by a relative name ("./libplug.so", kept so by the loader): the
# record takes the file's path from the process's maps.
(cd "$WORK" && LD_PRELOAD=$LIBALLOC MALLOC_CONF=prof:true,lg_prof_sample:0,prof_final:true,prof_prefix:$WORK/rel \
    ./host ./libplug.so ./libother.so 2>/dev/null) || fail "host (relative names) failed"
REL=$(ls "$WORK"/rel.*.f.heap) || fail "no dump with relative names"
(cd / && "$JEPROF_C" --quiet --text --show_bytes "$WORK/host" "$REL") >"$WORK/out.txt" 2>/dev/null || fail "jeprof-c failed"
awk '$6 == "plug_alloc" && $1 >= 600000 { ok = 1 } END { exit !ok }' "$WORK/out.txt" ||
    { cat "$WORK/out.txt"; fail "relative names: plug_alloc does not hold its bytes"; }
echo "ok   loaded as ./libplug.so: plug_alloc keeps its name"
LD_PRELOAD=$LIBALLOC MALLOC_CONF=prof:true,lg_prof_sample:0,prof_final:true,prof_format:both,prof_prefix:$WORK/both \
    "$WORK/host" "$WORK/libplug.so" "$WORK/libother.so" 2>"$WORK/where.txt" || fail "host failed"
HEAP=$(ls "$WORK"/both.*.f.heap) && PB=$(ls "$WORK"/both.*.f.pb.gz) || fail "no dumps"
where=$(cat "$WORK/where.txt")
echo "the second plugin's function: $where as the first's"
# both_own LABEL INPUT: jeprof-c on dump INPUT gives each plugin its own
# bytes: plug_alloc 20 x 30000, othr_alloc 10 x 3000 (usable sizes).
both_own() {
    local label=$1 input=$2 a b
    "$JEPROF_C" --quiet --text --show_bytes "$WORK/host" "$input" >"$WORK/out.txt" 2>"$WORK/err.txt" ||
        { cat "$WORK/err.txt"; fail "${label}jeprof-c failed on ${input##*.}"; }
    a=$(flat plug_alloc "$WORK/out.txt") b=$(flat othr_alloc "$WORK/out.txt")
    [ "${a:-0}" -ge 600000 ] && [ "${a:-0}" -lt 700000 ] ||
        { cat "$WORK/out.txt"; fail "$label${input##*.}: plug_alloc has '$a' bytes, expected 20 x 30000 (usable)"; }
    [ "${b:-0}" -ge 30000 ] && [ "${b:-0}" -lt 40000 ] ||
        { cat "$WORK/out.txt"; fail "$label${input##*.}: othr_alloc has '$b' bytes, expected 10 x 3000 (usable)"; }
    echo "ok   $label${input##*.}: plug_alloc $a, othr_alloc $b"
}
for input in "$HEAP" "$PB"; do
    both_own "" "$input"
done
if command -v jeprof >/dev/null 2>&1; then
    jeprof --text --show_bytes "$WORK/host" "$HEAP" >"$WORK/out.txt" 2>/dev/null
    a=$(flat plug_alloc "$WORK/out.txt") b=$(flat othr_alloc "$WORK/out.txt")
    [ "${a:-0}" -ge 600000 ] && [ "${b:-0}" -lt 40000 ] ||
        { cat "$WORK/out.txt"; fail "Debian jeprof: plug_alloc '$a', othr_alloc '$b'"; }
    echo "ok   Debian jeprof: plug_alloc $a, othr_alloc $b"
fi
if command -v go >/dev/null 2>&1; then
    timeout 120 go tool pprof -top -sample_index=inuse_space "$WORK/host" "$PB" >"$WORK/out.txt" 2>&1
    grep -qE "^ +[0-9.]+kB .* plug_alloc\$" "$WORK/out.txt" &&
        ! grep -qE "^ +(5|6)[0-9.]+kB .* othr_alloc\$" "$WORK/out.txt" ||
        { cat "$WORK/out.txt"; fail "go tool pprof: plug_alloc's bytes not under its name"; }
    echo "ok   go tool pprof"
fi

# The first plugin's file gone when the dump is read: heap_v2's bytes on
# libplug.so+offset (no file, no name), pprof's under the name the dump
# took from the file when it was written; never othr_alloc.
mv "$WORK/libplug.so" "$WORK/libplug.so.away"
"$JEPROF_C" --quiet --text --show_bytes "$WORK/host" "$HEAP" >"$WORK/out.txt" 2>"$WORK/err.txt" ||
    { cat "$WORK/err.txt"; fail "jeprof-c failed on heap"; }
awk '$1 >= 600000 && $6 ~ /^libplug\.so\+0x[0-9a-f]+$/ { ok = 1 } END { exit !ok }' "$WORK/out.txt" ||
    { cat "$WORK/out.txt"; fail "heap without libplug.so: the >= 600000 bytes are not on libplug.so+offset"; }
"$JEPROF_C" --quiet --text --show_bytes "$WORK/host" "$PB" >"$WORK/out2.txt" 2>"$WORK/err.txt" ||
    { cat "$WORK/err.txt"; fail "jeprof-c failed on gz"; }
a=$(flat plug_alloc "$WORK/out2.txt")
[ "${a:-0}" -ge 600000 ] || { cat "$WORK/out2.txt"; fail "gz without libplug.so: plug_alloc has '$a' bytes"; }
for o in out out2; do
    b=$(flat othr_alloc "$WORK/$o.txt")
    [ "${b:-0}" -lt 40000 ] || { cat "$WORK/$o.txt"; fail "without libplug.so: othr_alloc has $b bytes"; }
done
echo "ok   without libplug.so: heap on libplug.so+offset, gz plug_alloc $a (named at dump time)"
mv "$WORK/libplug.so.away" "$WORK/libplug.so"

# The allocator loaded by the plugins, not preloaded: the plugins are
# linked with -lalloc and allocate with mallocx (their malloc is the C
# library's: the program's global scope comes first), the host with
# neither. The program's dlclose is then the C library's, not liballoc's,
# and the unload is found by polling the loader's counts (libprof/cfi.c).
# Before, plug_alloc's bytes were named after what the second plugin had
# at their addresses.
for f in plug other; do
    sed -e 's/#include <stdlib.h>/#include <alloc.h>/' -e 's/malloc(n)/mallocx(n, 0)/' "$WORK/$f.c" >"$WORK/${f}_x.c"
    gcc -O2 -g -shared -fPIC -I"$ROOT/include" -o "$WORK/lib${f}_x.so" "$WORK/${f}_x.c" \
        -L"$ROOT/build" -lalloc -Wl,-rpath,"$ROOT/build" || fail "cannot build lib${f}_x.so"
done
rm -f "$WORK"/plugin.*
MALLOC_CONF=prof:true,lg_prof_sample:0,prof_final:true,prof_format:both,prof_prefix:$WORK/plugin \
    "$WORK/host" "$WORK/libplug_x.so" "$WORK/libother_x.so" 2>"$WORK/where.txt" || fail "host (plugins with -lalloc) failed"
echo "plugins with -lalloc: the second plugin's function: $(cat "$WORK/where.txt") as the first's"
for input in $(ls "$WORK"/plugin.*.f.heap "$WORK"/plugin.*.f.pb.gz); do
    both_own "plugins with -lalloc, " "$input"
done

# A dump whose maps section lists nothing readable: the same warning kind.
awk '/^MAPPED_LIBRARIES:/ { print; print "zzzz-yyyy r-xp garbage"; exit } { print }' "$HEAP" >"$WORK/nomaps.heap"
"$JEPROF_C" --quiet --text "$WORK/nomaps.heap" >"$WORK/out.txt" 2>"$WORK/err.txt" ||
    { cat "$WORK/err.txt"; fail "jeprof-c failed on a dump without mappings"; }
grep -q "lists no mappings" "$WORK/err.txt" || { cat "$WORK/err.txt"; fail "no warning about the missing mappings"; }
echo "ok   no mappings: warned"
echo "ok"
