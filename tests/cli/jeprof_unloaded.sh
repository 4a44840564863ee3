#!/usr/bin/env bash
# Code unloaded before the dump (issue 12: when unsure, warn and show the
# raw address): a library that allocates and is dlclose'd before the final
# dump has no mapping in the dump, so its frames can only be raw addresses;
# jeprof-c must say why on stderr (for our heap_v2 and .pb.gz) and still
# count the bytes, never lend the address another name. A dump whose maps
# section lists nothing readable gets a warning of its own.
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
cat >"$WORK/host.c" <<'C'
#include <dlfcn.h>
#include <stdlib.h>
void *keep[20];
int main(int argc, char **argv)
{
    void *h = dlopen(argv[1], RTLD_NOW);
    if (!h)
        return 1;
    void *(*f)(size_t) = (void *(*)(size_t))dlsym(h, "plug_alloc");
    for (int i = 0; i < 20; i++)
        keep[i] = f(30000);
    dlclose(h);
    return 0;
}
C
gcc -O2 -g -shared -fPIC -o "$WORK/libplug.so" "$WORK/plug.c" || fail "cannot build libplug.so"
gcc -O2 -g -o "$WORK/host" "$WORK/host.c" -ldl || fail "cannot build host"
ours "$WORK/host" host "$WORK/libplug.so"
for input in "$HEAP" "$PB"; do
    "$JEPROF_C" --quiet --text --show_bytes "$WORK/host" "$input" >"$WORK/out.txt" 2>"$WORK/err.txt" ||
        { cat "$WORK/err.txt"; fail "jeprof-c failed on ${input##*.}"; }
    grep -q "lies in no mapping the dump lists" "$WORK/err.txt" ||
        { cat "$WORK/err.txt"; fail "${input##*.}: no warning about the unloaded code"; }
    awk '$1 >= 600000 && $6 ~ /^0x[0-9a-f]+$/ { ok = 1 } END { exit !ok }' "$WORK/out.txt" ||
        { cat "$WORK/out.txt"; fail "${input##*.}: the >= 600000 bytes are not on a raw address"; }
    echo "ok   ${input##*.}: warned, the bytes on a raw address"
done
# A dump whose maps section lists nothing readable: the same warning kind.
awk '/^MAPPED_LIBRARIES:/ { print; print "zzzz-yyyy r-xp garbage"; exit } { print }' "$HEAP" >"$WORK/nomaps.heap"
"$JEPROF_C" --quiet --text "$WORK/nomaps.heap" >"$WORK/out.txt" 2>"$WORK/err.txt" ||
    { cat "$WORK/err.txt"; fail "jeprof-c failed on a dump without mappings"; }
grep -q "lists no mappings" "$WORK/err.txt" || { cat "$WORK/err.txt"; fail "no warning about the missing mappings"; }
echo "ok   no mappings: warned"
echo "ok"
