/* clock: elapsed time, for progress messages (symbolization). */
#ifndef JEPROF_CLOCK_H
#define JEPROF_CLOCK_H

/* Seconds on a monotonic clock. */
double now_seconds(void);

#endif
