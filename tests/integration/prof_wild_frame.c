/*
 * prof_wild_frame: a program built without frame pointers may hold any
 * value in rbp when it calls malloc (GNU as does: SIGSEGV in the profiler
 * under prof:true,prof_unwind:fp). The frame-pointer walk must stop at a
 * frame address it cannot read, in particular one within 16 bytes of the
 * top of the address space, where "fp + 16 <= stack top" wrapped to 0 and
 * passed: the walk then read fp[1] at 0xfffffffffffffff8.
 *
 * Every allocation is sampled (prof_wild_frame.conf: lg_prof_sample:0, prof_stats:true);
 * malloc is called with rbp set to each wild value by a trampoline that
 * describes its own frame in .eh_frame (so the other walks still unwind
 * it). The main run uses prof_unwind:fp; children run auto and libunwind.
 * Then the same from a coroutine's stack far below the initial thread's
 * (run_coroutine).
 * Each checks that the calls return, that their blocks were sampled (live
 * sampled bytes grow by their sizes) and that the process goes on.
 */
#include "check.h"

#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>

/* void *call_with_rbp(size_t n, void *(*f)(size_t), uintptr_t rbp):
 * f(n) with rbp = rbp, the caller's rbp restored afterwards. */
void *call_with_rbp(size_t n, void *(*f)(size_t), uintptr_t rbp);
__asm__(".text\n"
        ".globl call_with_rbp\n"
        ".type call_with_rbp, @function\n"
        "call_with_rbp:\n"
        ".cfi_startproc\n"
        "push %rbp\n"
        ".cfi_adjust_cfa_offset 8\n"
        ".cfi_rel_offset %rbp, 0\n"
        "mov %rdx, %rbp\n"
        "call *%rsi\n"
        "pop %rbp\n"
        ".cfi_adjust_cfa_offset -8\n"
        ".cfi_restore %rbp\n"
        "ret\n"
        ".cfi_endproc\n"
        ".size call_with_rbp, .-call_with_rbp\n");

static void run(void)
{
    /* 8-aligned values an unwinder can meet: the last words of the address
     * space, a kernel address, a non-canonical one, one past user space. */
    static const uintptr_t wild[] = {
        0xfffffffffffffff0u, 0xfffffffffffffff8u, 0xffffffffffffffe8u,
        0xffff800000000000u, 0x8000000000000000u, 0x00007ffffffff000u,
    };
    uint64_t before = tl_live_sampled_bytes();
    void *blocks[sizeof(wild) / sizeof(wild[0])];
    size_t total = 0;
    for (size_t i = 0; i < sizeof(wild) / sizeof(wild[0]); i++) {
        size_t n = 1000 + 100 * i;
        blocks[i] = call_with_rbp(n, malloc, wild[i]);
        CHECK_NONNULL(blocks[i]);
        memset(blocks[i], 0x5a, n);
        total += n;
    }
    uint64_t after = tl_live_sampled_bytes();
    CHECK_MSG(after >= before + total, "live sampled bytes %llu -> %llu, want +%zu",
              (unsigned long long)before, (unsigned long long)after, total);
    for (size_t i = 0; i < sizeof(wild) / sizeof(wild[0]); i++)
        free(blocks[i]);
}

/* A coroutine: a stack mapped 512 MiB below the initial thread's, with an
 * unmapped hole right above it, and malloc called there with rbp pointing
 * into the hole. That stack is within 1 GiB of __libc_stack_end, which the
 * walks took as the initial thread's stack: the frame-pointer walk read
 * the hole (SIGSEGV). Skipped (returns) where that address is taken. */
extern void *__libc_stack_end;
static ucontext_t main_ctx, co_ctx;
static uintptr_t hole;
static size_t co_total;

static void coroutine(void)
{
    void *blocks[8];
    for (size_t i = 0; i < 8; i++) {
        blocks[i] = call_with_rbp(2000 + i, malloc, hole);
        co_total += blocks[i] ? 2000 + i : 0;
    }
    for (size_t i = 0; i < 8; i++)
        free(blocks[i]);
}

static void run_coroutine(void)
{
    size_t sz = (size_t)1 << 20;
    uintptr_t want = ((uintptr_t)__libc_stack_end - ((uintptr_t)512 << 20)) & ~(uintptr_t)0xfffff;
    char *st = mmap((void *)want, 2 * sz, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (st == MAP_FAILED || st != (char *)want) {
        if (st != MAP_FAILED)
            munmap(st, 2 * sz);
        printf("coroutine case skipped: no mapping at %#lx\n", (unsigned long)want);
        return;
    }
    CHECK(munmap(st + sz, sz) == 0); /* the hole right above the coroutine's stack */
    hole = (uintptr_t)st + sz + 64;
    CHECK(getcontext(&co_ctx) == 0);
    co_ctx.uc_stack.ss_sp = st;
    co_ctx.uc_stack.ss_size = sz;
    co_ctx.uc_link = &main_ctx;
    makecontext(&co_ctx, coroutine, 0);
    CHECK(swapcontext(&main_ctx, &co_ctx) == 0);
    CHECK_MSG(co_total == 8 * 2000 + 28, "coroutine allocated %zu bytes", co_total);
    munmap(st, sz);
}

int main(int argc, char **argv)
{
    tl_require_liballoc();
    run();
    run_coroutine();
    if (argc > 1 && strcmp(argv[1], "child") == 0)
        return 0;
    tl_run_child("prof:true,prof_stats:true,lg_prof_sample:0,prof_unwind:auto");
    tl_run_child("prof:true,prof_stats:true,lg_prof_sample:0,prof_unwind:libunwind");
    printf("ok\n");
    return 0;
}
