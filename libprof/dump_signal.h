/*
 * dump_signal: MALLOC_CONF=prof_dump_signal:<sig> (with prof:true). On that
 * signal the process writes a manual dump, <prefix>.<pid>.<seq>.m<N>.heap
 * (and/or .pb.gz per prof_format), as prof.dump with no name would.
 *
 * The handler only records the request: sem_post on a process-private
 * semaphore (async-signal-safe, errno kept; no file descriptor, so a daemon
 * that closes every descriptor at start cannot break it or receive our
 * bytes), then chains to the handler installed before ours, if any (never
 * to SIG_DFL/SIG_IGN: the signal is ours). A profiler thread blocked in
 * sem_wait wakes at once and writes the dump as a normal thread with no
 * allocator or profiler lock held, its own allocations never sampled.
 * Requests that arrive while a dump is being written give one more dump;
 * dumps start at least 200 ms apart, so a storm of signals gives at most 5
 * dumps a second. The thread blocks every signal but the dump signal: a
 * program that blocks every signal in all of its threads (signalfd,
 * sigwait loops) still gets the dump signal delivered to our handler.
 *
 * Life cycle:
 *  - dump_signal_boot (from prof_boot, init lock held): initialises the
 *    semaphore and installs the handler with sigaction(SA_RESTART |
 *    SA_SIGINFO). No thread yet: a signal that arrives now is counted.
 *  - dump_signal_start (from prof_post_init: the allocator's constructor,
 *    after malloc_init, no allocator lock held): creates the thread (all
 *    signals blocked in it, name "prof_dump_sig") and registers a
 *    pthread_atfork child handler, which runs after the allocator's own.
 *  - fork: the thread does not exist in the child. The semaphore is the
 *    child's own copy of memory, so a signal that reaches the child at any
 *    time after fork is counted there, never answered by the parent, and
 *    answered by the thread the child handler starts. posix_spawn/vfork
 *    children run no fork handlers: they exec or exit. Each fork child
 *    starting a thread costs ~70 us per fork (fork+exit+wait measured
 *    457 -> 527 us), only when prof_dump_signal is set.
 *  - exit: an atexit handler waits for a dump in progress (the thread
 *    then dies with the process), so a dump is whole or not there at all.
 *  - fork and dumps: prof_prefork takes the dump lock, so a fork waits for
 *    a dump in progress and the child never inherits a half-written one.
 * A program that installs its own handler for the signal later replaces
 * ours: that is the program's choice (ours is installed once, at boot, and
 * never re-installed).
 */
#ifndef DUMP_SIGNAL_H
#define DUMP_SIGNAL_H

/* Install the handler when opt.prof and opt.prof_dump_signal are set; 0 or
 * an errno (a warning has been printed). Init lock held; never allocates. */
int dump_signal_boot(void);
/* Start the dump thread (once); no allocator lock held. */
void dump_signal_start(void);

#endif
