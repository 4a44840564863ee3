/*
 * background: the optional purging thread (background_thread:true). It
 * wakes every 50 ms and runs every arena's decay, so an idle process also
 * gives freed memory back on schedule. Threads cannot be created inside
 * malloc's initialisation, so a request made there starts the thread on
 * the first later allocation slow path.
 */
#ifndef BACKGROUND_H
#define BACKGROUND_H

#include <stdbool.h>

/* Ask for the thread (starts on the next background_poll). */
void background_request(void);
/* Start a requested thread; cheap when nothing is pending. */
void background_poll(void);
/* mallctl background_thread: start or stop; returns whether it was on. */
bool background_set(bool on);
bool background_running(void);
void background_postfork_child(void);

#endif
