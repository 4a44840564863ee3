# bench: allocator benchmarks. Each bench/<name>.c is one stand-alone program
# built into build/bench/<name>. They never link liballoc: the allocator under
# test is chosen at run time with LD_PRELOAD by bench/run.sh (`make bench`).
# Fixed flags (-O2, no sanitizers) so numbers stay comparable across builds.

BENCH_SRCS   := $(wildcard bench/*.c)
BENCH_BINS   := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
BENCH_CFLAGS := -std=gnu11 -O2 -g -D_GNU_SOURCE -pthread $(WARN)

$(BUILD)/bench/%: bench/%.c bench/bench_common.h
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) $< -o $@ -pthread

# C++ programs (bench/*.cc), same rules; cxx_churn_unsized is cxx_churn with
# delete-expressions calling the unsized operator delete.
BENCH_CXX_SRCS   := $(wildcard bench/*.cc)
BENCH_CXX_BINS   := $(patsubst bench/%.cc,$(BUILD)/bench/%,$(BENCH_CXX_SRCS))
BENCH_CXXFLAGS   := -std=gnu++17 -O2 -g -D_GNU_SOURCE -pthread -Wall -Wextra -Wno-unused-parameter -Wshadow

$(BUILD)/bench/%: bench/%.cc bench/bench_common.h
	@mkdir -p $(dir $@)
	$(CXX) $(BENCH_CXXFLAGS) $< -o $@ -pthread

$(BUILD)/bench/cxx_churn_unsized: BENCH_CXXFLAGS += -fno-sized-deallocation
$(BUILD)/bench/cxx_churn_unsized: bench/cxx_churn.cc

BENCH_BINS += $(BENCH_CXX_BINS)

# bench/tools/timeit: bench/run.sh's timer (wall, CPU in microseconds, peak RSS).
$(BUILD)/bench/timeit: bench/tools/timeit.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) $< -o $@

BENCH_BINS += $(BUILD)/bench/timeit
BENCH_DEPS += $(BENCH_BINS)

include bench/sample_cost/sample_cost.mk
include bench/check_cost/check_cost.mk

# Builds only the benchmark programs (bench/run.sh uses it when run by hand).
.PHONY: bench-bins
bench-bins: $(BENCH_BINS)
