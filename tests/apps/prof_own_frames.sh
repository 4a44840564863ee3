#!/usr/bin/env bash
# The allocator's own frames are never a call site, in every link mode: a
# program (C++ built -O2 -g, no frame pointers) allocates through each entry
# point (malloc, calloc, realloc, posix_memalign, aligned_alloc, mallocx,
# rallocx, operator new, operator new[]) from its own noinline function, one
# call per line; with prof:true,lg_prof_sample:0 the final heap_v2 dump read
# by jeprof-c --text --lines --show_bytes must charge each block's bytes
# (flat) to that function and that line, and no bytes to a frame of the
# allocator (liballoc/, libprof/). Link modes: liballoc.so (-lalloc),
# LD_PRELOAD, liballoc.a in a static executable, liballoc.a in a PIE
# executable, liballoc.a in a plugin .so loaded by dlopen (RTLD_LOCAL,
# -Bsymbolic: its calls bind to its own allocator); each with
# prof_unwind:libunwind, prof_unwind:fp and prof_unwind:auto (the cached
# .eh_frame walk, libprof/cfi.c). The static executable also runs
# with prof_unwind:auto (the cached walk with a table of the program's own
# .eh_frame: gcc gives -static programs no .eh_frame_hdr; whole stacks are
# checked by prof_static_stacks.sh) and must warn with an explicit
# prof_unwind:libunwind (libunwind cannot read such a program: frame
# pointers are used).
# The subjects below are compiled here on purpose: the test is about their
# link modes (-lalloc, preload, -static, PIE, a plugin with liballoc.a).
. "$(dirname "$0")/lib.sh"
need g++
B=$ROOT/build
JEPROF_C=$B/jeprof-c
[ -x "$JEPROF_C" ] && [ -f "$B/liballoc.a" ] || fail "build/jeprof-c or build/liballoc.a not built (run make)"
LIBS="-lunwind -lprotobuf-c -lz -lpthread -ldl -lm"

# Sizes are distinct and >= 4096, so each block's row is unmistakable.
cat >"$TMP/own.cc" <<'X'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define USER extern "C" __attribute__((noipa))
/* Weak: resolved at run time from whichever allocator is in the process
 * (the LD_PRELOAD build is not linked with one). */
extern "C" void *mallocx(size_t size, int flags) __attribute__((weak));
extern "C" void *rallocx(void *ptr, size_t size, int flags) __attribute__((weak));
struct big {
    char b[90011];
};
void *keep[16];
USER void use_malloc(void) { keep[0] = malloc(10007); /* @malloc */ }
USER void use_calloc(void) { keep[1] = calloc(1, 20011); /* @calloc */ }
USER void pre_realloc(void) { keep[2] = malloc(24); }
USER void use_realloc(void) { keep[2] = realloc(keep[2], 30011); /* @realloc */ }
USER void use_posix_memalign(void) { if (posix_memalign(&keep[3], 256, 40009)) keep[3] = 0; /* @posix_memalign */ }
USER void use_aligned_alloc(void) { keep[4] = aligned_alloc(4096, 53248); /* @aligned_alloc */ }
USER void use_mallocx(void) { keep[5] = mallocx(60013, 0); /* @mallocx */ }
USER void pre_rallocx(void) { keep[6] = mallocx(24, 0); }
USER void use_rallocx(void) { keep[6] = rallocx(keep[6], 70001, 0); /* @rallocx */ }
USER void use_new(void) { keep[7] = new big; /* @new */ }
USER void use_new_array(void) { keep[8] = new char[100003]; /* @new_array */ }
USER int run_all(void)
{
    if (!mallocx || !rallocx)
        return 1;
    use_malloc();
    use_calloc();
    pre_realloc();
    use_realloc();
    use_posix_memalign();
    use_aligned_alloc();
    use_mallocx();
    pre_rallocx();
    use_rallocx();
    use_new();
    use_new_array();
    for (int i = 0; i < 9; i++)
        if (!keep[i])
            return 2;
    return 0;
}
#ifndef PLUGIN
int main(void)
{
    int r = run_all();
    puts(r ? "allocation failed" : "ok");
    return r;
}
#endif
X
cat >"$TMP/host.c" <<'X'
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv)
{
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    int (*run)(void) = h ? (int (*)(void))dlsym(h, "run_all") : 0;
    if (!run) {
        printf("dlopen: %s\n", dlerror());
        return 1;
    }
    int r = run();
    puts(r ? "allocation failed" : "ok");
    return r;
}
X
CXXF="-O2 -g -fomit-frame-pointer -fno-allocation-dce"
cd "$TMP" || fail "cd $TMP"
g++ $CXXF -o own_shared own.cc -L"$B" -lalloc -Wl,-rpath,"$B" || fail "building own_shared (-lalloc)"
g++ $CXXF -o own_preload own.cc || fail "building own_preload"
g++ $CXXF -static -o own_static own.cc "$B/liballoc.a" $LIBS -llzma 2>static.err ||
    fail "building own_static (-static, liballoc.a): $(head -c 400 static.err)"
g++ $CXXF -fPIE -pie -o own_pie own.cc "$B/liballoc.a" $LIBS || fail "building own_pie (PIE, liballoc.a)"
g++ $CXXF -fPIC -shared -DPLUGIN -Wl,-Bsymbolic -o libown.so own.cc "$B/liballoc.a" $LIBS ||
    fail "building libown.so (plugin, liballoc.a)"
cc -O2 -o host host.c -ldl || fail "building host"
readelf -lW own_pie | grep -q 'DYN' || fail "own_pie is not a PIE"

failures=0
bad() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

check() { # mode unwind program [cmd...]
    local mode=$1 unwind=$2 prog=$3
    shift 3
    local d=$TMP/$mode.$unwind
    mkdir -p "$d"
    local out
    out=$(cd "$d" && env -u LD_PRELOAD MALLOC_CONF=prof:true,prof_final:true,lg_prof_sample:0,prof_unwind:$unwind,prof_prefix:$d/p \
        timeout 300 "$@" 2>"$d/err")
    [ "$out" = ok ] || { bad "$mode/$unwind: program said '$out' $(head -c 300 "$d/err")"; return; }
    local f
    f=$(ls "$d"/p.*.f.heap 2>/dev/null | head -n 1)
    [ -n "$f" ] || { bad "$mode/$unwind: no final dump"; return; }
    "$JEPROF_C" --quiet --text --lines --show_bytes "$prog" "$f" >"$d/report" 2>"$d/report.err" ||
        { bad "$mode/$unwind: jeprof-c failed: $(head -c 300 "$d/report.err")"; return; }
    local ok=1 e line size
    for e in malloc:10007 calloc:20011 realloc:30011 posix_memalign:40009 aligned_alloc:53248 \
        mallocx:60013 rallocx:70001 new:90011 new_array:100003; do
        size=${e#*:}
        e=${e%%:*}
        line=$(grep -n "/\* @$e \*/" "$TMP/own.cc" | cut -d: -f1)
        # A row "flat flat% sum% cum cum% use_<e> <path>/own.cc:<line>" holding
        # at least the block's bytes.
        if ! awk -v fn="use_$e" -v loc="own.cc:$line" -v size="$size" '
            $6 == fn && ($7 == loc || substr($7, length($7) - length(loc)) == "/" loc) && $1 >= size { ok = 1 }
            END { exit !ok }' "$d/report"; then
            bad "$mode/$unwind: $e's bytes ($size) are not charged to use_$e at own.cc:$line"
            ok=0
        fi
    done
    # No bytes on a frame of the allocator itself.
    if awk '$1 > 0 && ($7 ~ /(^|\/)(liballoc|libprof)\/[a-z_]+\.(c|cc):/ ||
                       $6 ~ /^(prof_|heap_|backtrace_|alloc_|tcache_|arena_|sample_)/) { print; found = 1 }
            END { exit !found }' "$d/report" >"$d/internal"; then
        bad "$mode/$unwind: bytes charged to the allocator's own frames: $(head -n 3 "$d/internal")"
        ok=0
    fi
    if [ $ok = 1 ]; then
        echo "pass: $mode, prof_unwind:$unwind"
    else
        head -n 14 "$d/report" | sed 's/^/    /'
    fi
}

for unwind in libunwind fp; do
    check shared $unwind "$TMP/own_shared" "$TMP/own_shared"
    check preload $unwind "$TMP/own_preload" env LD_PRELOAD="$LIB" "$TMP/own_preload"
    check static $unwind "$TMP/own_static" "$TMP/own_static"
    check pie $unwind "$TMP/own_pie" "$TMP/own_pie"
    check plugin $unwind "$TMP/host" "$TMP/host" "$TMP/libown.so"
done
check static auto "$TMP/own_static" "$TMP/own_static"
# auto elsewhere: the walk with cached .eh_frame rules (libprof/cfi.c)
check shared auto "$TMP/own_shared" "$TMP/own_shared"
check preload auto "$TMP/own_preload" env LD_PRELOAD="$LIB" "$TMP/own_preload"
check pie auto "$TMP/own_pie" "$TMP/own_pie"
check plugin auto "$TMP/host" "$TMP/host" "$TMP/libown.so"

# -static without --eh-frame-hdr: an explicit prof_unwind:libunwind says it
# walks frame pointers instead (the rows above show it does so correctly);
# auto says nothing.
if readelf -lW own_static | grep -q GNU_EH_FRAME; then
    echo "note: this toolchain gives -static programs an .eh_frame_hdr; warning not checked"
else
    grep -q "prof_unwind:libunwind: .*no .eh_frame_hdr" "$TMP/static.libunwind/err" ||
        bad "static/libunwind: no warning about the missing .eh_frame_hdr: $(head -c 300 "$TMP/static.libunwind/err")"
    grep -q "eh_frame_hdr" "$TMP/static.auto/err" && bad "static/auto: warned: $(head -c 300 "$TMP/static.auto/err")"
fi
[ $failures -eq 0 ] || fail "$failures checks failed"
echo ok
