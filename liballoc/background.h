/*
 * background: the optional purging threads (background_thread:true). Up to
 * max_background_threads threads; thread k serves the arenas whose index is
 * k modulo that maximum, and exists only once such an arena does (so a
 * process with one arena runs one thread). Each wakes every 50 ms and runs
 * its arenas' decay, so an idle process also gives freed memory back on
 * schedule. Threads cannot be created inside malloc's initialisation, so a
 * request made there starts them on the first later allocation slow path.
 * Thread-safe: transitions are serialised by a control mutex; the
 * allocation path only reads one atomic (background_poll).
 */
#ifndef BACKGROUND_H
#define BACKGROUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest max_background_threads (jemalloc's limit: one per arena index). */
#define BACKGROUND_LIMIT 4095

/* At init: settle opt.max_background_threads (unset: number of CPUs; 0: 1,
 * as jemalloc) and request the threads if opt.background_thread. */
void background_boot(void);
/* Ask for the threads (start on the next background_poll). */
void background_request(void);
/* Start requested threads; cheap when nothing is pending. */
void background_poll(void);
/* mallctl background_thread: start or stop (stopping joins the threads);
 * returns whether they were on. */
bool background_set(bool on);
bool background_running(void);
/* mallctl max_background_threads: the current maximum, and a new one (at
 * most opt.max_background_threads, else EINVAL); running threads are
 * stopped and restarted under the new maximum, as jemalloc does. */
size_t background_max(void);
int background_set_max(size_t n);
/* stats.background_thread.*: threads running now, their wakeups so far and
 * the average interval between two wakeups of a thread (ns; 0 before any
 * thread's second wakeup). Counts start afresh when threads are restarted. */
void background_stats(size_t *nthreads, uint64_t *nruns, uint64_t *run_interval_ns);
void background_postfork_child(void);

#endif
