#!/usr/bin/env bash
# prof_unwind:auto's cached .eh_frame rules (libprof/cfi.c) are never used
# for a module that was dlclose'd, even when another library is mapped at
# the same address later. Two plugins with the same layout (their function
# plug_run at the same offset, its call at the same offset) but other
# frames: A keeps a frame pointer (CFA = rbp + 16), B has a 4 KiB frame on
# rsp and leaves rbp alone. The host walks the stack from a callback that
# plug_run calls: through A (the rule of that return address is cached),
# then dlcloses A, dlopens B until it lands where A was, and walks through B.
# Every walk must give libunwind's frames exactly, and frames 1 and 2 must
# be plug_run's call and the host function that called plug_run: with A's
# rule reused, a walk through B reads the host's frame pointer as B's and
# skips that host frame (libunwind's own cache did so too before the
# allocator's dlclose flushed it).
# Also: a thread started after the unload walks through B too (its own
# libunwind cache is fresh); and a plugin whose destructor calls dlclose
# (nested in the host's dlclose) unloads without hanging.
# The plugins are compiled here on purpose: the test is about their exact
# code layout, which only assembly fixes; the host links the allocator's
# internal archive to call the walk directly.
. "$(dirname "$0")/lib.sh"
need cc
INTERNAL_A=$ROOT/build/obj/liballoc-internal.a
[ -f "$INTERNAL_A" ] || fail "$INTERNAL_A not built (run make)"
HTTP_PARSER_LIB=$(cc -print-file-name=libhttp_parser.a)

# plug_run(fn): calls fn; the call sits at offset 16 in both plugins.
cat >"$TMP/a.S" <<'X'
	.text
	.globl plug_run
	.type plug_run, @function
	.p2align 4
plug_run:
	.cfi_startproc
	pushq %rbp
	.cfi_def_cfa_offset 16
	.cfi_offset %rbp, -16
	movq %rsp, %rbp
	.cfi_def_cfa_register %rbp
	.p2align 4
	call *%rdi
	popq %rbp
	.cfi_def_cfa %rsp, 8
	ret
	.cfi_endproc
	.p2align 6
	.size plug_run, .-plug_run
	.section .note.GNU-stack,"",@progbits
X
cat >"$TMP/b.S" <<'X'
	.text
	.globl plug_run
	.type plug_run, @function
	.p2align 4
plug_run:
	.cfi_startproc
	subq $4104, %rsp
	.cfi_def_cfa_offset 4112
	.p2align 4
	call *%rdi
	addq $4104, %rsp
	.cfi_def_cfa_offset 8
	ret
	.cfi_endproc
	.p2align 6
	.size plug_run, .-plug_run
	.section .note.GNU-stack,"",@progbits
X

cat >"$TMP/n.c" <<'X'
#include <dlfcn.h>
static void *inner;
__attribute__((constructor)) static void up(void) { inner = dlopen(INNER, RTLD_NOW | RTLD_LOCAL); }
__attribute__((destructor)) static void down(void) { if (inner) dlclose(inner); }
int nested_loaded(void) { return inner != 0; }
X

cat >"$TMP/host.c" <<'X'
#include "backtrace.h"
#include <pthread.h>
#include <unistd.h>
#include <dlfcn.h>
#include "dynload.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uintptr_t a[PROF_BT_MAX], b[PROF_BT_MAX];
static unsigned na;
static int nb;

/* Both walks from here; frame 0 is this function's own call sites. */
static __attribute__((noinline)) void probe(void)
{
    backtrace_boot(BT_LIBUNWIND);
    na = backtrace_capture(a, PROF_BT_MAX);
    backtrace_boot(BT_AUTO);
    nb = backtrace_capture_cfi(b, PROF_BT_MAX);
    __asm__ volatile("" ::: "memory");
}

/* The host frame that calls plug_run: keeps a frame pointer, which a
 * stale "CFA = rbp + 16" rule for B's return address would take as B's. */
static __attribute__((noinline, optimize("no-omit-frame-pointer"))) int
through(void (*run)(void (*)(void)))
{
    volatile char pad[64];
    pad[0] = 1;
    run(probe);
    return pad[0];
}

static uintptr_t plug_ret; /* plug_run's return address: its call is at +16 */

static int compare(const char *what)
{
    if (na < 4) {
        printf("%s: libunwind gave %u frames\n", what, na);
        return 1;
    }
    if (nb < 0) {
        printf("%s: the cfi walk gave up\n", what);
        return 1;
    }
    if ((unsigned)nb != na) {
        printf("%s: cfi walk %d frames, libunwind %u\n", what, nb, na);
        return 1;
    }
    uintptr_t t = (uintptr_t)&through;
    if (a[1] != plug_ret || a[2] <= t || a[2] >= t + 256) {
        printf("%s: libunwind's frames 1, 2: %#lx %#lx, expected %#lx and inside through (%#lx)\n",
               what, (unsigned long)a[1], (unsigned long)a[2], (unsigned long)plug_ret,
               (unsigned long)t);
        return 1;
    }
    for (unsigned i = 1; i < na; i++)
        if (a[i] != b[i]) {
            printf("%s: frame %u: cfi %#lx, libunwind %#lx\n", what, i, (unsigned long)b[i],
                   (unsigned long)a[i]);
            return 1;
        }
    return 0;
}

static int thread_bad;
static void *in_thread(void *run)
{
    through((void (*)(void (*)(void)))run);
    thread_bad = compare("a new thread through B");
    return NULL;
}

int main(int argc, char **argv)
{
    (void)argc;
    /* libunwind, as the allocator's constructor loads it under prof:true
     * (libprof/dynload.h): this host calls the profiler's walk directly. */
    dynload_boot(1, 0);
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        printf("dlopen %s: %s\n", argv[1], dlerror());
        return 1;
    }
    void (*run)(void (*)(void)) = (void (*)(void (*)(void)))dlsym(h, "plug_run");
    uintptr_t at = (uintptr_t)run;
    plug_ret = at + 18;
    for (int i = 0; i < 3; i++) {
        through(run);
        if (compare("through A"))
            return 1;
    }
    if (dlclose(h) != 0) {
        printf("dlclose: %s\n", dlerror());
        return 1;
    }
    /* B where A was: usually the first time (the kernel hands out the
     * hole A left); else load and unload a few times. */
    for (int tries = 0; tries < 20; tries++) {
        h = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            printf("dlopen %s: %s\n", argv[2], dlerror());
            return 1;
        }
        run = (void (*)(void (*)(void)))dlsym(h, "plug_run");
        if ((uintptr_t)run == at)
            break;
        dlclose(h);
        run = NULL;
    }
    if (!run) {
        printf("skip: B never mapped where A was\n");
        return 77;
    }
    for (int i = 0; i < 3; i++) {
        through(run);
        if (compare("through B at A's address"))
            return 1;
    }
    pthread_t th;

    if (pthread_create(&th, NULL, in_thread, (void *)run) != 0) {
        puts("pthread_create failed");
        return 1;
    }
    pthread_join(th, NULL);
    if (thread_bad)
        return 1;

    /* nested: n.so's destructor dlcloses the library its constructor
     * opened (an alarm turns a hang into a failure) */
    alarm(20);
    void *n = dlopen(argv[3], RTLD_NOW | RTLD_LOCAL);
    int (*loaded)(void) = n ? (int (*)(void))dlsym(n, "nested_loaded") : NULL;
    if (!loaded || !loaded()) {
        printf("nested plugin: %s\n", n ? "inner dlopen failed" : dlerror());
        return 1;
    }
    if (dlclose(n) != 0) {
        printf("nested dlclose: %s\n", dlerror());
        return 1;
    }
    puts("ok");
    return 0;
}
X
cc -shared -o "$TMP/a.so" "$TMP/a.S" || fail "assembling plugin A"
cc -shared -o "$TMP/b.so" "$TMP/b.S" || fail "assembling plugin B"
cc -shared -fPIC -DINNER="\"$TMP/a.so\"" -o "$TMP/n.so" "$TMP/n.c" || fail "building the nested plugin"
cc -O2 -fomit-frame-pointer -D_GNU_SOURCE -I"$ROOT/libprof" -I"$ROOT/include" -o "$TMP/host" "$TMP/host.c" \
    "$INTERNAL_A" "$HTTP_PARSER_LIB" -lunwind -lprotobuf-c -lz -lpthread -ldl -lm 2>"$TMP/cc.err" ||
    fail "building the host: $(head -5 "$TMP/cc.err")"
out=$(env -u LD_PRELOAD -u MALLOC_CONF timeout 30 "$TMP/host" "$TMP/a.so" "$TMP/b.so" "$TMP/n.so" 2>&1)
rc=$?
[ $rc -eq 77 ] && skip "$out"
[ $rc -eq 142 ] && fail "hung (alarm after 20 s; a nested dlclose?): $out"
[ $rc -eq 0 ] && [ "$out" = ok ] || fail "$out (exit $rc)"
echo "pass: the walk through B at A's old address gives libunwind's frames"
