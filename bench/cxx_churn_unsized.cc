/*
 * cxx_churn_unsized: cxx_churn built with -fno-sized-deallocation (see
 * bench/bench.mk), so every delete-expression calls the unsized
 * operator delete(void *). Compare with the cxx_churn row of the same
 * allocator: the difference is what the size passed to delete is worth.
 */
#define CXX_CHURN_NAME "cxx_churn_unsized"
#include "cxx_churn.cc"
