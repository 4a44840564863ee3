/* compiler: attribute shorthands shared by jeprof-c's headers. */
#ifndef JEPROF_COMPILER_H
#define JEPROF_COMPILER_H

/* A result the caller must look at (an error code, a status). */
#define WUR __attribute__((warn_unused_result))

#endif
