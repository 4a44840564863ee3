/*
 * xthread_large: xthread_producer_consumer with blocks of 40-256 KiB
 * (buffers one thread fills and another frees): the large-block path, its
 * frees from another thread, and whether their pages are reused or
 * faulted in again. Batches of 16; each block is written at both ends (a
 * stamp at the start, its size in the last byte), so peak RSS counts the
 * pages those writes reach.
 */
#define XTHREAD_LARGE
#include "xthread_producer_consumer.c"
