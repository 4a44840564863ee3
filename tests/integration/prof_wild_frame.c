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
 * Each checks that the calls return, that their blocks were sampled (live
 * sampled bytes grow by their sizes) and that the process goes on.
 */
#include "check.h"

#include <sys/wait.h>

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

int main(int argc, char **argv)
{
    tl_require_liballoc();
    run();
    if (argc > 1 && strcmp(argv[1], "child") == 0)
        return 0;
    tl_run_child(argv[0], "prof:true,prof_stats:true,lg_prof_sample:0,prof_unwind:auto");
    tl_run_child(argv[0], "prof:true,prof_stats:true,lg_prof_sample:0,prof_unwind:libunwind");
    printf("ok\n");
    return 0;
}
